// File: test_batches.h
// Test-only helpers for the trainer: synthetic training batches built from ModelInputs directly (no
// dataset), and a BatchSource that hands out rank r's share of fixed global batches, the way the data
// loader does (global batch i has world_size x B samples; rank r takes [r*B, (r+1)*B)).
// Thread-compatible.
#ifndef MIVLA_TRAINER_TRAIN_TEST_BATCHES_H_
#define MIVLA_TRAINER_TRAIN_TEST_BATCHES_H_

#include <cstdint>
#include <vector>

#include "core/action/action_space.h"
#include "core/model/model_config.h"
#include "trainer/train/trainer.h"

namespace mivla::trainer::testing {

/// Inputs from model::SyntheticInputs (seeded), smooth target chunks in [-1, 1] on each sample's own
/// slots and its complement slots, all steps valid.
TrainBatch SyntheticBatch(const model::ModelConfig& config, const std::vector<action::Embodiment>& es,
                          uint64_t seed, int64_t image_size = 56);

/// Samples [begin, end) of a batch.
TrainBatch SliceBatch(const TrainBatch& batch, int64_t begin, int64_t end);
/// The batch repeated `times` times along the sample axis.
TrainBatch RepeatBatch(const TrainBatch& batch, int64_t times);

class FixedBatchSource : public BatchSource {
 public:
  /// Batch i is global[i % global.size()], sliced for `rank` of `world_size`.
  FixedBatchSource(std::vector<TrainBatch> global, int rank = 0, int world_size = 1)
      : global_(std::move(global)), rank_(rank), world_(world_size) {}
  absl::StatusOr<TrainBatch> Next() override;
  absl::Status SeekTo(uint64_t batch_index) override {
    next_ = batch_index;
    return absl::OkStatus();
  }
  uint64_t next_index() const override { return next_; }

 private:
  std::vector<TrainBatch> global_;
  int rank_, world_;
  uint64_t next_ = 0;
};

/// Max |a - b| over every parameter and buffer of two models of the same architecture.
double MaxAbsDifference(torch::nn::Module& a, torch::nn::Module& b);

}  // namespace mivla::trainer::testing

#endif  // MIVLA_TRAINER_TRAIN_TEST_BATCHES_H_
