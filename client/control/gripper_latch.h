// File: gripper_latch.h
// The grasp latch between the chunk scheduler and the safety layer: once the policy's gripper command
// drops below `close_below` (native units), the gripper is commanded fully closed (the gripper's
// closed end, so it squeezes what it holds with the gripper's full effort) until the command rises
// above `release_above` again. Commands in between keep the latch's state (hysteresis); an open latch
// passes the policy's value through unchanged.
//
// Why: a policy trained on recorded gripper openings reproduces the opening it saw while holding (the
// object's width), not the squeeze the demonstrator commanded, so without the latch it grips with a
// fraction of the demonstrator's force and objects slip out in transit (models/README.md measures it).
//
//   ASSIGN_OR_RETURN(GripperLatch latch, GripperLatch::Create(piper, {.close_below = 0.05}));
//   latch.Reset();                       // an episode starts with every gripper unlatched
//   if (action && latch.Apply(&action->command)) ++latched_ticks;
//
// Thread-safety: not thread-safe (the control loop owns it).
#ifndef MIVLA_CLIENT_CONTROL_GRIPPER_LATCH_H_
#define MIVLA_CLIENT_CONTROL_GRIPPER_LATCH_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "client/driver/robot_driver.h"
#include "core/kinematics/embodiment.h"

namespace mivla::client {

struct GripperLatchOptions {
  /// Native units; unset: no latch (the policy's value passes through).
  std::optional<double> close_below;
  /// Native units, at least close_below; unset: close_below (no hysteresis).
  std::optional<double> release_above;
};

class GripperLatch {
 public:
  /// InvalidArgument naming the option: close_below outside the arms' gripper ranges (above the
  /// closed end, at most the open end), or release_above below close_below or above the open end.
  static absl::StatusOr<GripperLatch> Create(const kinematics::EmbodimentDescription& robot,
                                             GripperLatchOptions options);

  bool enabled() const { return options_.close_below.has_value(); }
  /// Every gripper unlatched.
  void Reset();
  /// Rewrites the grippers of a command for the robot's arms (in embodiment().arms order); true when
  /// it sent at least one gripper closed. A non-finite value, or a command of another shape, is left
  /// alone (the safety layer holds on it).
  bool Apply(RobotCommand* command);
  bool latched(int arm) const { return latched_[arm]; }

 private:
  GripperLatch(GripperLatchOptions options, std::vector<double> closed);

  GripperLatchOptions options_;
  std::vector<double> closed_;  // per arm: the gripper's closed end
  std::vector<bool> latched_;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_CONTROL_GRIPPER_LATCH_H_
