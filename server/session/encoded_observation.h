// File: encoded_observation.h
// One observation of one session after the encode stage: the prepared model inputs of that single
// sample (kept so that a newer model version can re-encode it without the robot re-sending images) and
// the condition tokens the encoders produced from them, tagged with the model version that made them.
// Immutable once built; shared read-only between the session and in-flight Act calls.
#ifndef MIVLA_SERVER_SESSION_ENCODED_OBSERVATION_H_
#define MIVLA_SERVER_SESSION_ENCODED_OBSERVATION_H_

#include <array>
#include <cstdint>
#include <string>

#include "core/action/action_space.h"
#include "core/model/dit_decoder.h"

namespace mivla::server {

/// Single-sample model inputs (no batch dimension), on the model's device.
struct PreparedInputs {
  torch::Tensor images;      // [V, 3, S, S] float RGB in [0, 1], V = the model's max_views
  torch::Tensor view_mask;   // [V] bool
  torch::Tensor text_ids;    // [L] int64, L = the model's max_tokens (padded with 0)
  torch::Tensor text_mask;   // [L] bool
  torch::Tensor state;       // [76] float, normalised proprioception
  torch::Tensor state_mask;  // [76] float 0/1
  action::Embodiment embodiment = action::Embodiment::kHuman;
  // The proprioception as received (unnormalised), so a model version with other statistics can
  // re-normalise it.
  std::array<float, action::kActionDim> raw_state{};
  action::ActionMask raw_state_mask;
};

struct EncodedObservation {
  uint64_t id = 0;             // per session, increasing from 1
  int64_t timestamp_us = 0;    // robot time of the observation
  std::string instruction;     // the instruction it was encoded with
  PreparedInputs inputs;
  std::string model_version;   // the version whose encoders produced `cond`
  model::ConditionTokens cond; // batch dimension 1
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SESSION_ENCODED_OBSERVATION_H_
