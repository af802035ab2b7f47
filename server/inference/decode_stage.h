// File: decode_stage.h
// The decode stage's torch-free step after PolicyRuntime::Decode: one task's chunk (the runtime's
// de-normalised unified values) becomes its wire ActionChunk (chunk_builder.h: native terms, resampled
// onto the session's control period, step timestamps) with the model version. A chunk holding any
// non-finite value is never answered OK. Called on a decode worker thread only.
#ifndef MIVLA_SERVER_INFERENCE_DECODE_STAGE_H_
#define MIVLA_SERVER_INFERENCE_DECODE_STAGE_H_

#include "absl/status/status.h"
#include "server/inference/engine_tasks.h"
#include "server/runtime_api/policy_runtime.h"

namespace mivla::server {

/// Fills task.response from `values` (horizon x kActionDim values, checked by the caller). INTERNAL naming the session and model version (response cleared) when a
/// value is not finite.
absl::Status WriteChunk(const ChunkValues& values, const RuntimeInfo& info, const DecodeTask& task);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_DECODE_STAGE_H_
