// File: input_ranges.h
// Numeric ranges of proprioception, from the embodiment descriptions (core/kinematics/embodiments/*.json)
// widened by the margins in InputLimits: every joint position within [lower - margin, upper + margin]
// of its arm's limits, the gripper within its range +- margin, end-effector positions within the
// workspace cube, quaternion entries within [-1.01, 1.01], unified-vector entries within
// +-max_unified_abs. Without ranges (nullptr) only the workspace and unified bounds and a joint bound
// of +-(2 pi + margin) apply. Errors are INVALID_ARGUMENT naming the field and the allowed interval.
// Thread-safety: InputRanges is immutable after Load; the check is a pure function.
#ifndef MIVLA_SERVER_INFERENCE_INPUT_RANGES_H_
#define MIVLA_SERVER_INFERENCE_INPUT_RANGES_H_

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "mivla/v1/policy.pb.h"
#include "server/inference/input_limits.h"

namespace mivla::server {

struct ArmRange {
  bool known = false;
  std::array<double, 6> lower{};
  std::array<double, 6> upper{};
  double gripper_min = 0.0;
  double gripper_max = 0.0;
};

class InputRanges {
 public:
  /// Reads every robot embodiment's arms from `embodiment_dir` ("" = kinematics::DefaultEmbodimentDir()).
  /// Errors name the file.
  static absl::StatusOr<InputRanges> Load(const std::string& embodiment_dir = "");

  /// side 0 = left, 1 = right.
  const ArmRange& arm(action::Embodiment e, int side) const { return arms_[static_cast<int>(e)][side]; }

 private:
  std::array<std::array<ArmRange, 2>, action::kNumEmbodiments> arms_{};
};

/// Assumes the shape checks passed (6 joints per arm, the arms the embodiment needs, 76 unified values).
absl::Status CheckProprioceptionRanges(const mivla::v1::Proprioception& p, action::Embodiment e,
                                       const InputRanges* ranges, const InputLimits& limits);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_INPUT_RANGES_H_
