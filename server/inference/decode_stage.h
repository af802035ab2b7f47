// File: decode_stage.h
// The decode stage's batch step: copies each task's cached condition tokens into the staging rows,
// draws each task's noise from its own seed (so a chunk does not depend on its batch-mates), runs the
// K-step Euler sampler once for the batch, and writes every task's ActionChunk (de-normalised, native
// terms; chunk_builder.h). All tasks of one call share a model version whose encoders produced their
// conditions (PolicyEngine re-encodes stale ones first). Called on a stage worker thread only.
#ifndef MIVLA_SERVER_INFERENCE_DECODE_STAGE_H_
#define MIVLA_SERVER_INFERENCE_DECODE_STAGE_H_

#include <vector>

#include "absl/status/status.h"
#include "server/inference/engine_tasks.h"
#include "server/inference/staging_buffers.h"

namespace mivla::server {

/// INTERNAL when the model fails; the responses are then untouched. Otherwise `per_task` (resized to
/// tasks.size()) holds each task's own status: INTERNAL naming the session and model version when its
/// chunk holds a non-finite value (never answered OK).
absl::Status DecodeBatch(const LoadedModel& model, const std::vector<DecodeTask*>& tasks, DecodeStaging* staging,
                         std::vector<absl::Status>* per_task);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_DECODE_STAGE_H_
