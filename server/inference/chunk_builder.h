// File: chunk_builder.h
// Builds the wire ActionChunk from a runtime's chunk (de-normalised unified values, policy_runtime.h):
// keeps the embodiment's slots, resamples the model's steps onto the session's control period, then writes each
// step in the embodiment's native terms (per-arm joint targets in rad, gripper opening in the robot's
// units, end-effector pose with a unit quaternion), the unified vector, the timestamps (observation
// time + step x control period, saturating) and the embodiment's valid mask.
//
// Timing. The model's step h (h = 0 .. H-1) is the state it wants at observation time + (h+1) x
// model_period_s (the trainer's targets are frames t+1 .. t+H of episodes resampled to the model's
// rate). A wire step k is the command issued at observation time + k x control_period_s, whose value is
// the state wanted one control period later, at (k+1) x control_period_s. So the chunk has
// K = floor(H x model_period_s / control_period_s) steps (at least 1), each the linear interpolation of
// the two model steps around (k+1) x control_period_s (quaternions: the shorter way, then normalised);
// times before the first model step take it as they are (the observed state is not an input here), and
// none lies after the last. When the two periods are equal, step k is model step k (no resampling).
// Thread-safe (pure function).
#ifndef MIVLA_SERVER_INFERENCE_CHUNK_BUILDER_H_
#define MIVLA_SERVER_INFERENCE_CHUNK_BUILDER_H_

#include <cstdint>

#include "core/action/action_space.h"
#include "mivla/v1/policy.pb.h"

namespace mivla::server {

struct ChunkMeta {
  action::Embodiment embodiment = action::Embodiment::kPiper;
  int64_t observation_time_us = 0;
  double control_period_s = 0.1;  // the session's: seconds between wire steps
  uint64_t observation_id = 0;
  double model_period_s = 0;      // the model's, 1 / ModelConfig::control_rate_hz; 0: control_period_s
};

/// `values` points at horizon x 76 floats (row-major), de-normalised (physical units); slots outside the
/// embodiment's mask are ignored. A model period that is not positive and finite is taken as the
/// control period (no resampling).
void BuildActionChunk(const float* values, int horizon, const ChunkMeta& meta, mivla::v1::ActionChunk* chunk);

/// True when every value of every step (unified vector, joints, grippers, poses, timestamps' inputs) is finite.
bool ChunkIsFinite(const mivla::v1::ActionChunk& chunk);

/// Wire steps of a chunk for `horizon` model steps: floor(horizon x model_period / control_period), at
/// least 1; `horizon` when either period is not positive and finite, or when they are equal.
int ChunkSteps(int horizon, double model_period_s, double control_period_s);

/// observation time + step x period in microseconds, saturating at the int64 limits instead of wrapping
/// (the inputs are range-checked before; this is the backstop).
int64_t StepTimestampUs(int64_t observation_time_us, int step, double control_period_s);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_CHUNK_BUILDER_H_
