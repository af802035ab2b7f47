// File: gripper_latch.cc
#include "client/control/gripper_latch.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace mivla::client {

absl::StatusOr<GripperLatch> GripperLatch::Create(const kinematics::EmbodimentDescription& robot,
                                                  GripperLatchOptions options) {
  std::vector<double> closed;
  for (const kinematics::ArmDescription& arm : robot.arms) closed.push_back(arm.gripper.min_m);
  if (!options.close_below.has_value()) {
    if (options.release_above.has_value()) {
      return absl::InvalidArgumentError("gripper.release_above: set without gripper.close_below");
    }
    return GripperLatch(options, std::move(closed));
  }
  const double c = *options.close_below;
  const double r = options.release_above.value_or(c);
  for (const kinematics::ArmDescription& arm : robot.arms) {
    const kinematics::GripperSpec& g = arm.gripper;
    if (!(c > g.min_m && c <= g.max_m)) {
      return absl::InvalidArgumentError(absl::StrCat("gripper.close_below: ", c, " is outside the ", arm.name,
                                                     " gripper's range (", g.min_m, ", ", g.max_m, "] (", g.units,
                                                     ")"));
    }
    if (!(r >= c && r <= g.max_m)) {
      return absl::InvalidArgumentError(absl::StrCat("gripper.release_above: ", r, " is outside [close_below ", c, ", ",
                                                     g.max_m, "] for the ", arm.name, " gripper"));
    }
  }
  options.release_above = r;
  return GripperLatch(options, std::move(closed));
}

GripperLatch::GripperLatch(GripperLatchOptions options, std::vector<double> closed)
    : options_(options), closed_(std::move(closed)), latched_(closed_.size(), false) {}

void GripperLatch::Reset() { latched_.assign(closed_.size(), false); }

bool GripperLatch::Apply(RobotCommand* command) {
  if (!enabled() || command->arms.size() != closed_.size()) return false;
  bool any = false;
  for (size_t i = 0; i < closed_.size(); ++i) {
    double& g = command->arms[i].gripper;
    if (!std::isfinite(g)) continue;
    if (g < *options_.close_below) latched_[i] = true;
    if (g > *options_.release_above) latched_[i] = false;
    if (latched_[i]) {
      g = closed_[i];
      any = true;
    }
  }
  return any;
}

}  // namespace mivla::client
