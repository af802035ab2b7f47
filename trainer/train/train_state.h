// File: train_state.h
// The trainer's files in the output (model) directory, for step k:
//   <name>-<k, 8 digits>.mivla  the servable checkpoint (core/checkpoint), what mivla-server loads
//   <name>-<k, 8 digits>.state  the training state: weights, AdamW state, step, the data loader's next
//                               batch index, the seed and the config hash (a LibTorch archive)
// Both are written atomically (a temporary file in the same directory, fsync, rename), the state
// first, so a .mivla never appears before its state, and neither is ever visible half-written. Resume
// takes the newest step that has both files; keep-last-K removes older pairs.
// Randomness needs no saved generator: the flow-matching noise and times of step k come from a
// generator seeded by (seed, k), the data from the loader's SeekTo(batch index).
// Functions are reentrant; Save only reads the model and optimiser (no concurrent training step).
#ifndef MIVLA_TRAINER_TRAIN_TRAIN_STATE_H_
#define MIVLA_TRAINER_TRAIN_TRAIN_STATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "absl/status/statusor.h"

namespace mivla::trainer {

struct TrainStateInfo {
  int64_t step = 0;                 // optimiser steps taken
  uint64_t next_batch_index = 0;    // the loader's next batch
  uint64_t seed = 0;
  std::string config_hash;
  int64_t world_size = 0;           // ranks that wrote it (0: a state from before this field)
  std::string data_fingerprint;     // DataFingerprint of the sources ("" = not recorded)
  std::string init_fingerprint;     // CheckpointFingerprint of a fine-tune's init checkpoint ("" = none)
};

/// "<dir>/<name>-<step, 8 digits>" (add ".mivla" or ".state").
std::string CheckpointStem(const std::string& dir, const std::string& name, int64_t step);

/// Writes the state atomically (temporary + fsync + rename).
absl::Status SaveTrainState(const std::string& path, const TrainStateInfo& info, torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer);
/// Reads a state into `model` and `optimizer` (same architecture and parameter order). Every tensor, the
/// optimizer's moments included, lands on `device` (the run's), whatever device wrote the state: a state
/// written on one GPU (or the CPU) resumes on another. Errors name the path: unreadable, not a training
/// state, or weights that do not fit the model.
absl::StatusOr<TrainStateInfo> LoadTrainState(const std::string& path, torch::nn::Module& model,
                                              torch::optim::Optimizer& optimizer, torch::Device device = torch::kCPU);

/// Steps for which both <name>-<step>.state and .mivla exist in `dir`, ascending.
std::vector<int64_t> ListCheckpointSteps(const std::string& dir, const std::string& name);
/// Removes all but the newest `keep_last` pairs, and every .state without its .mivla.
absl::Status PruneCheckpoints(const std::string& dir, const std::string& name, int64_t keep_last);

/// Writes `contents` to `path` atomically (temporary in the same directory, fsync, rename).
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_TRAIN_STATE_H_
