// File: data_setup.h
// The bridge between a TrainConfig and the data loader (data_loader.h): LoaderOptions from the config
// and the model's config (horizon, control rate, image size, views, text length), and the loader as the
// trainer's BatchSource. Errors name the config field. The adapter borrows the loader (thread-compatible).
#ifndef MIVLA_TRAINER_TRAIN_DATA_SETUP_H_
#define MIVLA_TRAINER_TRAIN_DATA_SETUP_H_

#include <memory>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "core/model/model_config.h"
#include "trainer/train/data_loader.h"
#include "trainer/train/train_config.h"
#include "trainer/train/trainer.h"

namespace mivla::trainer {

/// `normalization` (may be null: computed from the data) must outlive the loader.
absl::StatusOr<LoaderOptions> MakeLoaderOptions(const TrainConfig& config, const model::ModelConfig& model,
                                                int rank, int world_size,
                                                const action::NormalizationStats* normalization);

/// A fingerprint of the configured sources: FNV-1a 64 (hex) over each source's regular files (path
/// relative to the source, size), sorted. Errors name an unreadable source directory.
absl::StatusOr<std::string> DataFingerprint(const TrainConfig& config);

/// The load report as JSON: per-source counts, skipped episodes with their reasons, IK failures.
nlohmann::json LoadReportJson(const LoadReport& report);

class LoaderBatchSource : public BatchSource {
 public:
  explicit LoaderBatchSource(DataLoader* loader) : loader_(loader) {}
  absl::StatusOr<TrainBatch> Next() override { return loader_->Next(); }
  absl::Status SeekTo(uint64_t batch_index) override { return loader_->SeekTo(batch_index); }
  uint64_t next_index() const override { return loader_->next_index(); }

 private:
  DataLoader* loader_;
};

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_DATA_SETUP_H_
