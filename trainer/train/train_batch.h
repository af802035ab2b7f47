// File: train_batch.h
// One training batch as the data loader (data_loader.h) hands it to the training loop: the model's
// inputs and the flow-matching targets, as CPU tensors, plus the source of each sample (for logs) and
// the batch's global index. A plain value; thread-compatible.
//
// Shapes (B = samples in this batch, V = max_views, L = max_text_tokens, H = horizon):
//   inputs.images [B, V, 3, S, S] float in [0, 1]    targets.actions         [B, H, 76] normalised
//   inputs.view_mask [B, V] bool (present views first) targets.label_mask     [B, 76] float 0/1
//   inputs.text_ids / text_mask [B, L] int64 / bool    targets.complement_mask [B, 76] float 0/1
//   inputs.state [B, 76] normalised, 0 off the mask    targets.step_mask       [B, H] float 0/1
//   inputs.state_mask [B, 76] float 0/1                targets.embodiment      [B] int64
//   inputs.embodiment [B] int64
#ifndef MIVLA_TRAINER_TRAIN_TRAIN_BATCH_H_
#define MIVLA_TRAINER_TRAIN_TRAIN_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/flow_matching.h"
#include "core/model/mivla_model.h"

namespace mivla::trainer {

struct TrainBatch {
  model::ModelInputs inputs;         // CPU tensors
  model::FlowTargets targets;        // CPU tensors
  std::vector<std::string> sources;  // source name per sample (logs)
  std::vector<std::string> episodes; // episode file per sample (logs, tests)
  std::vector<int> frames;           // observation frame per sample, as a frame index of that file
  uint64_t index = 0;                // global batch index (0, 1, 2, ...)
};

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_TRAIN_BATCH_H_
