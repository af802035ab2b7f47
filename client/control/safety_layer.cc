// File: safety_layer.cc
#include "client/control/safety_layer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/util/log.h"

namespace mivla::client {
namespace {

constexpr char kLog[] = "safety";
constexpr int64_t kLogWindowUs = 1000000;  // clamp lines: at most one per kind per second
constexpr int kHoldLinesPerWindow = 5;     // hold start/end lines per second
constexpr double kTiny = 1e-9;             // rad/s: below this a limit is not reported as binding

bool Finite(const ArmTarget& t) { return t.joints.allFinite() && std::isfinite(t.gripper); }

// Largest speed toward a limit `room` away (>= 0) from which the joint can still stop before it
// under deceleration `a`, with commands held for `dt` each: v*dt + v^2/(2a) <= room.
double StoppingSpeed(double room, double a, double dt) {
  if (room <= 0.0) return 0.0;
  return a * (-dt + std::sqrt(dt * dt + 2.0 * room / a));
}

}  // namespace

const char* HoldReasonName(HoldReason reason) {
  switch (reason) {
    case HoldReason::kNone:
      return "none";
    case HoldReason::kNoAction:
      return "no_action";
    case HoldReason::kStaleChunk:
      return "stale_chunk";
    case HoldReason::kServerLost:
      return "server_lost";
    case HoldReason::kNonFinite:
      return "non_finite";
    case HoldReason::kOperatorStop:
      return "operator_stop";
  }
  return "unknown";
}

const char* ClampKindName(ClampKind kind) {
  switch (kind) {
    case ClampKind::kPosition:
      return "position";
    case ClampKind::kVelocity:
      return "velocity";
    case ClampKind::kAcceleration:
      return "acceleration";
    case ClampKind::kWorkspace:
      return "workspace";
    case ClampKind::kGripper:
      return "gripper";
  }
  return "unknown";
}

absl::StatusOr<SafetyLayer> SafetyLayer::Create(const kinematics::EmbodimentDescription& robot,
                                                SafetyOptions options) {
  const std::string who = absl::StrCat("safety layer for ", robot.name, ": ");
  if (robot.arms.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(who, "the embodiment has no arms"));
  }
  if (!options.workspace.empty() && options.workspace.size() != robot.arms.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(who, "SafetyOptions.workspace has ", options.workspace.size(), " boxes for ",
                     robot.arms.size(), " arms (one per arm, or none)"));
  }
  for (size_t i = 0; i < options.workspace.size(); ++i) {
    const Eigen::AlignedBox3d& b = options.workspace[i];
    if (b.isEmpty() || !b.min().allFinite() || !b.max().allFinite()) {
      return absl::InvalidArgumentError(absl::StrCat(
          who, "SafetyOptions.workspace[", i, "] is empty or not finite (min must be <= max)"));
    }
  }
  auto positive = [&](const char* field, double v) -> absl::Status {
    if (std::isfinite(v) && v > 0.0) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(who, "SafetyOptions.", field, " must be positive, got ", v));
  };
  for (const auto& [field, value] : std::initializer_list<std::pair<const char*, double>>{
           {"period_us", static_cast<double>(options.period_us)},
           {"staleness_us", static_cast<double>(options.staleness_us)},
           {"max_acceleration", options.max_acceleration},
           {"velocity_scale", options.velocity_scale},
           {"max_gripper_velocity", options.max_gripper_velocity}}) {
    if (absl::Status s = positive(field, value); !s.ok()) return s;
  }
  if (!std::isfinite(options.position_margin_rad) || options.position_margin_rad < 0.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        who, "SafetyOptions.position_margin_rad must be >= 0, got ", options.position_margin_rad));
  }
  return SafetyLayer(robot, std::move(options));
}

SafetyLayer::SafetyLayer(const kinematics::EmbodimentDescription& robot, SafetyOptions options)
    : robot_(robot),
      options_(std::move(options)),
      dt_(static_cast<double>(options_.period_us) * 1e-6),
      operator_stop_(std::make_shared<std::atomic<bool>>(false)) {
  last_clamp_log_us_.fill(std::numeric_limits<int64_t>::min());
}

void SafetyLayer::Reset(const RobotReading& measured) {
  if (measured.arms.size() != robot_.arms.size()) {
    LogError(kLog, absl::StrCat("Reset: reading has ", measured.arms.size(), " arms, ", robot_.name,
                                " has ", robot_.arms.size(), "; layer stays uninitialised"));
    initialized_ = false;
    return;
  }
  RobotCommand cmd;
  cmd.arms.resize(robot_.arms.size());
  velocity_.assign(robot_.arms.size(), kinematics::JointVector());
  prev_target_.assign(robot_.arms.size(), kinematics::JointVector());
  for (size_t i = 0; i < robot_.arms.size(); ++i) {
    const kinematics::ArmDescription& arm = robot_.arms[i];
    const ArmReading& r = measured.arms[i];
    if (r.joints.size() != arm.chain.num_joints() || !r.joints.allFinite() ||
        !std::isfinite(r.gripper)) {
      LogError(kLog, absl::StrCat("Reset: arm ", arm.name, " reading has ", r.joints.size(),
                                  " joints (want ", arm.chain.num_joints(),
                                  ") or a non-finite value; layer stays uninitialised"));
      initialized_ = false;
      return;
    }
    cmd.arms[i].joints = arm.chain.Clamp(r.joints);
    cmd.arms[i].gripper = std::clamp(r.gripper, arm.gripper.min_m, arm.gripper.max_m);
    velocity_[i] = kinematics::JointVector::Zero(arm.chain.num_joints());
    prev_target_[i] = cmd.arms[i].joints;
  }
  last_ = std::move(cmd);
  initialized_ = true;
}

HoldReason SafetyLayer::CheckUsable(int64_t now_us, const std::optional<TimedAction>& proposed,
                                    const PolicyHealth& health) const {
  if (operator_stop()) return HoldReason::kOperatorStop;
  if (!health.server_connected) return HoldReason::kServerLost;
  if (now_us - health.newest_chunk_observed_us > options_.staleness_us) {
    return HoldReason::kStaleChunk;
  }
  if (!proposed.has_value()) return HoldReason::kNoAction;
  const RobotCommand& c = proposed->command;
  if (c.arms.size() != robot_.arms.size()) return HoldReason::kNonFinite;
  for (size_t i = 0; i < c.arms.size(); ++i) {
    if (c.arms[i].joints.size() != robot_.arms[i].chain.num_joints() || !Finite(c.arms[i])) {
      return HoldReason::kNonFinite;
    }
  }
  return HoldReason::kNone;
}

bool SafetyLayer::InsideWorkspace(int arm, const kinematics::JointVector& q) const {
  if (options_.workspace.empty()) return true;
  const kinematics::KinematicChain& chain = robot_.arms[arm].chain;
  const Eigen::Vector3d p = (chain.base().inverse() * chain.ForwardUnchecked(q)).translation();
  return options_.workspace[arm].contains(p);
}

void SafetyLayer::Step(int arm, const ArmTarget* target, ArmTarget* out,
                       std::array<bool, kNumClampKinds>* c) {
  const kinematics::ArmDescription& desc = robot_.arms[arm];
  const kinematics::KinematicChain& chain = desc.chain;
  const int n = chain.num_joints();
  const kinematics::JointVector q0 = last_.arms[arm].joints;
  kinematics::JointVector& v0 = velocity_[arm];
  kinematics::JointVector& prev_target = prev_target_[arm];
  const double a_max = options_.max_acceleration;
  const double dv_max = a_max * dt_;
  const bool act = target != nullptr;
  kinematics::JointVector q(n);
  for (int j = 0; j < n; ++j) {
    double lo = chain.lower()[j] + options_.position_margin_rad;
    double hi = chain.upper()[j] - options_.position_margin_rad;
    if (lo > hi) lo = hi = 0.5 * (chain.lower()[j] + chain.upper()[j]);
    double v;
    if (act) {
      double qt = target->joints[j];
      if (qt < lo || qt > hi) {
        qt = std::clamp(qt, lo, hi);
        (*c)[static_cast<int>(ClampKind::kPosition)] = true;
      }
      // Follow the target trajectory: its own velocity u plus a correction for how far the arm
      // trails it, capped so the arm can still stop on a target that stays put (no overshoot).
      const double u = (qt - prev_target[j]) / dt_;
      const double trail = prev_target[j] - q0[j];
      double correction = trail / dt_;
      const double c_stop = StoppingSpeed(std::abs(trail), a_max, dt_);
      if (std::abs(correction) > c_stop + kTiny) {
        correction = std::copysign(c_stop, correction);
        (*c)[static_cast<int>(ClampKind::kAcceleration)] = true;
      }
      v = u + correction;
      const double v_max = chain.joints()[j].max_velocity * options_.velocity_scale;
      if (v_max > 0.0 && std::abs(v) > v_max + kTiny) {
        v = std::copysign(v_max, v);
        (*c)[static_cast<int>(ClampKind::kVelocity)] = true;
      }
      if (std::abs(v - v0[j]) > dv_max + kTiny) {
        v = v0[j] + std::copysign(dv_max, v - v0[j]);
        (*c)[static_cast<int>(ClampKind::kAcceleration)] = true;
      }
      prev_target[j] = qt;
    } else {  // hold: decelerate toward rest
      v = v0[j] - std::copysign(std::min(std::abs(v0[j]), dv_max), v0[j]);
    }
    // Near a limit, move toward it no faster than the joint can still stop before it.
    const double room = v > 0.0 ? hi - q0[j] : q0[j] - lo;
    const double v_stop = StoppingSpeed(room, a_max, dt_);
    if (std::abs(v) > v_stop + kTiny) {
      v = std::copysign(v_stop, v);
      if (act) (*c)[static_cast<int>(ClampKind::kPosition)] = true;
    }
    // A start outside [lo, hi] (measured at a hard limit) may only move inward.
    q[j] = std::clamp(q0[j] + v * dt_, std::min(lo, q0[j]), std::max(hi, q0[j]));
  }
  if (!InsideWorkspace(arm, q)) {
    if (InsideWorkspace(arm, q0)) {
      double s_in = 0.0, s_out = 1.0;  // shorten the step to the box boundary
      for (int it = 0; it < 20; ++it) {
        const double s = 0.5 * (s_in + s_out);
        (InsideWorkspace(arm, q0 + s * (q - q0)) ? s_in : s_out) = s;
      }
      q = q0 + s_in * (q - q0);
    } else {  // outside already (e.g. after Reset): only steps that approach the box
      const kinematics::KinematicChain& ch = chain;
      auto dist = [&](const kinematics::JointVector& x) {
        return options_.workspace[arm].exteriorDistance(
            (ch.base().inverse() * ch.ForwardUnchecked(x)).translation());
      };
      if (dist(q) > dist(q0)) q = q0;
    }
    if (act) (*c)[static_cast<int>(ClampKind::kWorkspace)] = true;
  }
  v0 = (q - q0) / dt_;
  if (!act) prev_target = q;  // after a hold, the next target is measured from where the arm is
  out->joints = q;

  const double g0 = last_.arms[arm].gripper;
  double g = g0;
  if (act) {
    const kinematics::GripperSpec& spec = desc.gripper;
    g = target->gripper;
    if (g < spec.min_m || g > spec.max_m) {
      g = std::clamp(g, spec.min_m, spec.max_m);
      (*c)[static_cast<int>(ClampKind::kGripper)] = true;
    }
    double gv = options_.max_gripper_velocity;
    if (spec.max_velocity > 0.0) gv = std::min(gv, spec.max_velocity);
    if (std::abs(g - g0) > gv * dt_) {
      g = g0 + std::copysign(gv * dt_, g - g0);
      (*c)[static_cast<int>(ClampKind::kGripper)] = true;
    }
  }
  out->gripper = g;
}

void SafetyLayer::NoteHold(int64_t now_us, HoldReason reason, const PolicyHealth& health) {
  if (reason != HoldReason::kNone) ++stats_.hold_ticks;
  if (reason == hold_) return;
  if (reason != HoldReason::kNone) ++stats_.holds[static_cast<int>(reason)];
  if (hold_ == HoldReason::kNone) {
    hold_started_us_ = now_us;
    hold_start_tick_ = stats_.ticks;
  }
  const HoldReason was = hold_;
  hold_ = reason;
  // At most kHoldLinesPerWindow hold lines per second; the next line counts the ones left out.
  if (now_us - hold_log_window_us_ >= kLogWindowUs) {
    hold_log_window_us_ = now_us;
    hold_lines_in_window_ = 0;
  }
  if (hold_lines_in_window_ >= kHoldLinesPerWindow) {
    ++hold_lines_unlogged_;
    return;
  }
  ++hold_lines_in_window_;
  std::string note;
  if (hold_lines_unlogged_ > 0) {
    note = absl::StrCat(" [", hold_lines_unlogged_, " hold lines left out]");
    hold_lines_unlogged_ = 0;
  }
  std::string detail;
  if (reason == HoldReason::kStaleChunk) {
    detail = absl::StrFormat(" (newest chunk's observation %.1f ms old, bound %.1f ms)",
                             (now_us - health.newest_chunk_observed_us) * 1e-3,
                             options_.staleness_us * 1e-3);
  }
  if (was == HoldReason::kNone) {
    LogWarning(kLog,
               absl::StrCat(robot_.name, ": hold started: ", HoldReasonName(reason), detail, note));
  } else if (reason == HoldReason::kNone) {
    LogInfo(kLog,
            absl::StrFormat("%s: hold ended (%s) after %d ticks, %.1f ms: fresh actions resume%s",
                            robot_.name, HoldReasonName(was), stats_.ticks - hold_start_tick_,
                            (now_us - hold_started_us_) * 1e-3, note));
  } else {
    LogWarning(kLog, absl::StrCat(robot_.name, ": hold reason ", HoldReasonName(was), " -> ",
                                  HoldReasonName(reason), detail, note));
  }
}

void SafetyLayer::NoteClamps(int64_t now_us, const std::array<bool, kNumClampKinds>& clamps) {
  for (int k = 0; k < kNumClampKinds; ++k) {
    if (!clamps[k]) continue;
    ++stats_.clamps[k];
    ++clamps_unlogged_[k];
    if (last_clamp_log_us_[k] != std::numeric_limits<int64_t>::min() &&
        now_us - last_clamp_log_us_[k] < kLogWindowUs) {
      continue;
    }
    LogWarning(kLog,
               absl::StrFormat("%s: clamped: %s (%d ticks since the last such line, %d in all)",
                               robot_.name, ClampKindName(static_cast<ClampKind>(k)),
                               clamps_unlogged_[k], stats_.clamps[k]));
    last_clamp_log_us_[k] = now_us;
    clamps_unlogged_[k] = 0;
  }
}

SafetyDecision SafetyLayer::Filter(int64_t now_us, const std::optional<TimedAction>& proposed,
                                   const PolicyHealth& health) {
  ++stats_.ticks;
  SafetyDecision d;
  if (!initialized_) {
    d.hold = HoldReason::kNoAction;
    NoteHold(now_us, d.hold, health);
    return d;
  }
  d.hold = CheckUsable(now_us, proposed, health);
  std::array<bool, kNumClampKinds> clamps{};
  d.command.arms.resize(robot_.arms.size());
  for (int i = 0; i < static_cast<int>(robot_.arms.size()); ++i) {
    const ArmTarget* target = d.hold == HoldReason::kNone ? &proposed->command.arms[i] : nullptr;
    Step(i, target, &d.command.arms[i], &clamps);
  }
  NoteHold(now_us, d.hold, health);
  NoteClamps(now_us, clamps);
  for (int k = 0; k < kNumClampKinds; ++k) {
    if (clamps[k]) d.clamps.push_back(static_cast<ClampKind>(k));
  }
  last_ = d.command;
  return d;
}

}  // namespace mivla::client
