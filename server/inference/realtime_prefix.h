// File: realtime_prefix.h
// Real-time chunking on the wire (ActRequest / StreamActRequest inference_delay_steps and
// committed_steps, issue 14): the checks of those fields against the session, and the mapping of the
// committed steps (at the session's control period) onto the model's steps, as the runtime takes them
// (DecodeItem::executed_prefix, policy_runtime.h).
//
// Timing (chunk_builder.h): committed step k holds the state wanted at the observation time + (k + 1)
// control periods; model step h the state wanted at + (h + 1) model periods. The model rows are every h
// whose time is at most n control periods (n committed steps; at most the horizon), each the linear
// interpolation of the committed steps around its time (a time before the first committed step takes
// the first as it is). Frozen are the rows whose time is at most inference_delay_steps control
// periods: the steps the robot executes while the chunk is computed. When the two periods are equal,
// row h is committed step h.
// Thread-safe (pure functions).
#ifndef MIVLA_SERVER_INFERENCE_REALTIME_PREFIX_H_
#define MIVLA_SERVER_INFERENCE_REALTIME_PREFIX_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "core/action/action_space.h"
#include "mivla/v1/policy.pb.h"
#include "server/inference/input_limits.h"

namespace mivla::server {

using CommittedSteps = google::protobuf::RepeatedPtrField<mivla::v1::ActionStep>;

/// INVALID_ARGUMENT naming the field: inference_delay_steps above the number of committed steps; more
/// committed steps than `max_steps` (the session's chunk length); a step whose `unified` does not hold
/// exactly kActionDim values; a value that is not finite or beyond +-max_unified_abs. Joint and gripper
/// limits are not applied: the robot sends back the server's own values, which a model may put beyond
/// them (the robot's safety layer clamps what it executes).
absl::Status ValidateCommittedSteps(uint32_t inference_delay_steps, const CommittedSteps& steps, int max_steps,
                                    const InputLimits& limits);

struct ModelPrefix {
  std::vector<float> values;  // rows x kActionDim unified values, model steps (empty: no prefix)
  int frozen_steps = 0;       // the first rows executed while the chunk is computed
};

/// The validated steps mapped onto the model's steps (see above). Periods that are not positive and
/// finite are taken as equal (no resampling).
ModelPrefix ToModelPrefix(uint32_t inference_delay_steps, const CommittedSteps& steps, double control_period_s,
                          double model_period_s, int horizon);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_REALTIME_PREFIX_H_
