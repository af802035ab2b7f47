// File: chunk_builder.h
// Builds the wire ActionChunk from the sampler's output: de-normalises the 76 values with the model
// version's statistics, then writes each step in the embodiment's native terms (per-arm joint targets in
// rad, gripper opening in the robot's units, end-effector pose with a unit quaternion), the unified
// vector, the timestamps (observation time + step x control period, saturating) and the embodiment's valid mask.
// Thread-safe (pure function).
#ifndef MIVLA_SERVER_INFERENCE_CHUNK_BUILDER_H_
#define MIVLA_SERVER_INFERENCE_CHUNK_BUILDER_H_

#include <cstdint>

#include "core/action/action_space.h"
#include "core/action/normalizer.h"
#include "mivla/v1/policy.pb.h"

namespace mivla::server {

struct ChunkMeta {
  action::Embodiment embodiment = action::Embodiment::kPiper;
  int64_t observation_time_us = 0;
  double control_period_s = 0.1;
  uint64_t observation_id = 0;
};

/// `normalized` points at horizon x 76 floats (row-major) in the model's normalised units.
void BuildActionChunk(const float* normalized, int horizon, const action::NormalizationStats& stats,
                      const ChunkMeta& meta, mivla::v1::ActionChunk* chunk);

/// True when every value of every step (unified vector, joints, grippers, poses, timestamps' inputs) is finite.
bool ChunkIsFinite(const mivla::v1::ActionChunk& chunk);

/// observation time + step x period in microseconds, saturating at the int64 limits instead of wrapping
/// (the inputs are range-checked before; this is the backstop).
int64_t StepTimestampUs(int64_t observation_time_us, int step, double control_period_s);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_CHUNK_BUILDER_H_
