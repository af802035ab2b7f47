// File: safety_layer.h
// The always-on filter between the policy and the driver. Each control tick it turns the scheduled
// action (or its absence) into the command that is safe to send:
//  - usable action: clamped to the gripper range and gripper speed, the joint limits (minus a
//    margin; near a limit the speed toward it is cut so the joint can stop in time), the per-joint
//    velocity limit (embodiment velocity x velocity_scale), the acceleration limit, and the
//    workspace box (the end effector, by FK in the arm's own base frame, stays inside; otherwise
//    the step is shortened). The arm follows the targets' own velocity plus a correction for how
//    far it trails them, capped so that it can stop on a target that stays put: a jump (a chunk
//    join, the first action after a hold) is chased within the limits and reached without
//    overshoot.
//  - no action, a stale chunk, a lost server, a non-finite value (or a command of the wrong shape),
//    or the operator stop: a hold of the last safe command, decelerating within the acceleration
//    limit where it was moving; the gripper stays where it was. Checked in the order operator stop,
//    server lost, stale chunk, no action, non-finite.
// Velocities are differences between consecutive commands over period_us. Each hold start and end
// is logged with its reason (core/util/log.h; at most 5 such lines per second, the next line counts
// the ones left out); clamps are logged at most once per second per kind; both are counted in
// stats().
//
//   ASSIGN_OR_RETURN(SafetyLayer safety, SafetyLayer::Create(piper, {}));
//   safety.Reset(reading);                               // before the first Filter
//   SafetyDecision d = safety.Filter(now, action, health);
//   RETURN_IF_ERROR(driver->Command(d.command));
//
// Filter before Reset returns a hold (kNoAction) with an empty command: never send it.
// Thread-safety: not thread-safe (the control loop owns it), except SetOperatorStop and
// operator_stop, which any thread may call (an atomic flag shared by moved-from copies).
#ifndef MIVLA_CLIENT_CONTROL_SAFETY_LAYER_H_
#define MIVLA_CLIENT_CONTROL_SAFETY_LAYER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "Eigen/Geometry"
#include "absl/status/statusor.h"
#include "client/control/timed_action.h"
#include "client/driver/robot_driver.h"
#include "core/kinematics/embodiment.h"

namespace mivla::client {

enum class HoldReason { kNone, kNoAction, kStaleChunk, kServerLost, kNonFinite, kOperatorStop };
enum class ClampKind { kPosition, kVelocity, kAcceleration, kWorkspace, kGripper };
inline constexpr int kNumHoldReasons = 6;
inline constexpr int kNumClampKinds = 5;
const char* HoldReasonName(HoldReason reason);  // "none", "no_action", "stale_chunk",
                                                // "server_lost", "non_finite", "operator_stop"
const char* ClampKindName(ClampKind kind);      // "position", "velocity", "acceleration", ...

struct SafetyOptions {
  double position_margin_rad = 0.01;  // keep this far inside each joint limit
  double velocity_scale = 1.0;        // x the embodiment's per-joint velocity limit
  double max_acceleration = 8.0;      // rad/s^2 per joint
  double max_gripper_velocity = 0.2;  // native units per second (also capped by the spec's, if set)
  std::vector<Eigen::AlignedBox3d> workspace;  // per arm (embodiment().arms order); empty = no box
  // newest chunk's observation taken longer ago than this -> hold (its age counts the round trip). A chunk
  // is replaced once refill_threshold of it is left: with tiny's 1.6 s chunks refilled at 0.7, its newest
  // observation is 0.48 s + the round trip old, so the bound leaves ~0.5 s for the round trip (PiPER's
  // shipped configuration refills at 0.5, after 0.8 s, and so sets 1.3 s).
  int64_t staleness_us = 1000000;
  int64_t period_us = 40000;
};

struct PolicyHealth {
  bool server_connected = true;
  // Robot clock time of the observation the newest chunk was predicted from (its step 0's time).
  int64_t newest_chunk_observed_us = 0;
};

struct SafetyDecision {
  RobotCommand command;
  HoldReason hold = HoldReason::kNone;
  std::vector<ClampKind> clamps;  // each kind at most once, in enum order
};

class SafetyLayer {
 public:
  /// InvalidArgument for a robot without arms, a workspace list of the wrong length or an empty
  /// box, or a non-positive period, staleness, acceleration, velocity scale or gripper speed.
  static absl::StatusOr<SafetyLayer> Create(const kinematics::EmbodimentDescription& robot,
                                            SafetyOptions options);

  /// Last safe command = the measured joints and gripper (clamped into the hard limits), velocity
  /// 0. A reading of the wrong shape is logged and leaves the layer uninitialised.
  void Reset(const RobotReading& measured);
  bool initialized() const { return initialized_; }

  /// The command to send this tick (see the file comment).
  SafetyDecision Filter(int64_t now_us, const std::optional<TimedAction>& proposed,
                        const PolicyHealth& health);

  void SetOperatorStop(bool engaged) { operator_stop_->store(engaged); }
  bool operator_stop() const { return operator_stop_->load(); }

  /// The last command Filter returned (or Reset set); empty before Reset.
  const RobotCommand& last_command() const { return last_; }
  HoldReason current_hold() const { return hold_; }

  struct Stats {
    std::array<int64_t, kNumHoldReasons> holds{};  // hold episodes started, by HoldReason value
    std::array<int64_t, kNumClampKinds> clamps{};  // ticks with that clamp, by ClampKind value
    int64_t ticks = 0;
    int64_t hold_ticks = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  SafetyLayer(const kinematics::EmbodimentDescription& robot, SafetyOptions options);

  HoldReason CheckUsable(int64_t now_us, const std::optional<TimedAction>& proposed,
                         const PolicyHealth& health) const;
  void Step(int arm, const ArmTarget* target, ArmTarget* out, std::array<bool, kNumClampKinds>* c);
  bool InsideWorkspace(int arm, const kinematics::JointVector& q) const;
  void NoteHold(int64_t now_us, HoldReason reason, const PolicyHealth& health);
  void NoteClamps(int64_t now_us, const std::array<bool, kNumClampKinds>& clamps);

  kinematics::EmbodimentDescription robot_;
  SafetyOptions options_;
  double dt_ = 0.04;
  std::shared_ptr<std::atomic<bool>> operator_stop_;
  bool initialized_ = false;
  RobotCommand last_;
  std::vector<kinematics::JointVector> velocity_;     // per arm, rad/s of the last command
  std::vector<kinematics::JointVector> prev_target_;  // per arm: last target (or held pose)
  HoldReason hold_ = HoldReason::kNone;
  int64_t hold_started_us_ = 0;
  int64_t hold_start_tick_ = 0;
  int64_t hold_log_window_us_ = 0;
  int hold_lines_in_window_ = 0;
  int64_t hold_lines_unlogged_ = 0;
  std::array<int64_t, kNumClampKinds> last_clamp_log_us_{};
  std::array<int64_t, kNumClampKinds> clamps_unlogged_{};
  Stats stats_;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_CONTROL_SAFETY_LAYER_H_
