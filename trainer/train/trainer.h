// File: trainer.h
// The training loop of mivla-train: AdamW (warm-up then constant learning rate), gradient clipping,
// bf16 autocast on CUDA, data-parallel gradient averaging (distributed.h), the flow-matching
// mutual-imitation loss (core/model/flow_matching.h), and checkpoints + training state every N steps
// into the model directory (train_state.h), keeping the last K.
//
// Exact resume: step k's flow noise and times come from a CPU generator seeded by (seed, k), drawn for
// the whole global batch (world_size x B samples) and sliced by rank, so they match between a killed
// and an uninterrupted run and between two ranks and one rank with the doubled batch; the data comes
// from the batch source's SeekTo. Nothing draws from LibTorch's global generator during a step.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Trainer> t, Trainer::Create(std::move(options)));
//   if (resume) RETURN_IF_ERROR(t->Resume());
//   ASSIGN_OR_RETURN(TrainSummary s, t->Run());
//
// Ownership: the trainer holds the model (shared holder) and borrows `data` and `dist`, which must
// outlive it. Thread-compatible: one thread drives it; RequestStop may be called from any thread.
#ifndef MIVLA_TRAINER_TRAIN_TRAINER_H_
#define MIVLA_TRAINER_TRAIN_TRAINER_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/optim/adamw.h>

#include "absl/status/statusor.h"
#include "core/action/normalizer.h"
#include "core/model/mivla_model.h"
#include "core/model/runtime.h"
#include "trainer/train/distributed.h"
#include "trainer/train/train_batch.h"
#include "trainer/train/train_config.h"
#include "trainer/train/train_log.h"

namespace mivla::trainer {

/// Where batches come from: the data loader in mivla-train, fixed batches in tests.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual absl::StatusOr<TrainBatch> Next() = 0;
  virtual absl::Status SeekTo(uint64_t batch_index) = 0;
  virtual uint64_t next_index() const = 0;
};

struct TrainerOptions {
  TrainConfig config;
  model::MivlaModel model{nullptr};       // initialised weights (fresh, imported or fine-tune start)
  model::RuntimeOptions runtime;
  BatchSource* data = nullptr;            // required
  Distributed* dist = nullptr;            // null: one process
  action::NormalizationStats normalization;  // stored in every checkpoint
  std::string tokenizer_model;            // SentencePiece bytes stored in every checkpoint
  std::map<std::string, std::string> metadata;  // extra checkpoint metadata (e.g. "data")
  std::string data_fingerprint;           // of the training data (data_setup.h); "" = not checked
  std::string init_fingerprint;           // of config.init_checkpoint (model_setup.h); "" = not checked
  bool progress = true;
  std::FILE* log_out = stderr;
  int tty = -1;                           // progress: -1 detect, 0 plain lines, 1 bar
};

struct TrainSummary {
  int64_t first_step = 0, last_step = 0;
  double first_loss = 0, last_loss = 0;   // means over the first / last k logged records, k = clamp(n/2, 1, 10)
  double seconds = 0, samples_per_s = 0;  // this run's steps (all ranks' samples)
  double data_s = 0, forward_s = 0, backward_s = 0, optimizer_s = 0;  // mean per step
  std::vector<std::string> checkpoints;   // written by this run, in order
  bool stopped = false;                   // RequestStop ended the run early
};

class Trainer {
 public:
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(TrainerOptions options);

  /// Continues from the newest complete checkpoint pair in config.output_dir (NOT_FOUND if none);
  /// FAILED_PRECONDITION if it was written under another config hash or seed, another world size, or
  /// on other data (both fingerprints recorded and different). Data parallel: collective;
  /// rank 0 picks the step and broadcasts it, every rank loads that state (the model directory must be
  /// shared) or every rank returns an error; parameters are then re-broadcast from rank 0.
  absl::Status Resume();
  absl::Status ResumeFrom(const std::string& state_path);

  /// One optimisation step (every rank). Returns the step's record (losses averaged over ranks only
  /// on logging steps; this rank's values otherwise).
  absl::StatusOr<StepRecord> Step();
  /// Steps until config.steps (or a stop request), logging and checkpointing; a final checkpoint
  /// at the last step. Returns the summary (rank 0 also writes summary files through the CLI).
  absl::StatusOr<TrainSummary> Run();
  /// Writes <name>-<step>.state and .mivla now (rank 0; other ranks return OK), then prunes.
  absl::StatusOr<std::string> SaveCheckpoint();

  void RequestStop() { stop_.store(true); }
  int64_t step() const { return step_; }
  model::MivlaModel model() const { return model_; }
  const TrainConfig& config() const { return options_.config; }
  std::vector<torch::Tensor> trainable() const { return trainable_; }

 private:
  explicit Trainer(TrainerOptions options);

  TrainerOptions options_;
  model::MivlaModel model_{nullptr};
  std::vector<torch::Tensor> trainable_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  int64_t step_ = 0;
  int64_t run_start_step_ = 0;
  int64_t last_samples_ = 0;  // global samples of the last step
  std::atomic<bool> stop_{false};
};

/// Flow times [n] in [0, max_time) and noise [n, horizon, 76] for samples [begin, begin + n) of the
/// global batch of step `step`: a pure function of (seed, step) and the sample positions.
std::pair<torch::Tensor, torch::Tensor> StepNoise(uint64_t seed, int64_t step, int64_t global_batch,
                                                  int64_t begin, int64_t n, int64_t horizon, double max_time);

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_TRAINER_H_
