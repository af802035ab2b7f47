#include "server/inference/input_ranges.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/util/status_prefix.h"

namespace mivla::server {
namespace {

absl::Status OutOfRange(const std::string& field, double v, double lo, double hi) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", v, " is outside [", lo, ", ", hi, "]"));
}

absl::Status CheckArm(const mivla::v1::ArmState& a, const ArmRange& r, const std::string& f,
                      const InputLimits& limits) {
  constexpr double kTwoPi = 2.0 * M_PI;
  for (int j = 0; j < a.joint_positions_size() && j < 6; ++j) {
    const double lo = (r.known ? r.lower[j] : -kTwoPi) - limits.joint_margin_rad;
    const double hi = (r.known ? r.upper[j] : kTwoPi) + limits.joint_margin_rad;
    const double v = a.joint_positions(j);
    if (!(v >= lo && v <= hi)) return OutOfRange(absl::StrCat(f, ".joint_positions[", j, "]"), v, lo, hi);
  }
  if (r.known) {
    const double lo = r.gripper_min - limits.gripper_margin, hi = r.gripper_max + limits.gripper_margin;
    if (!(a.gripper() >= lo && a.gripper() <= hi)) return OutOfRange(f + ".gripper", a.gripper(), lo, hi);
  }
  if (a.has_end_effector()) {
    const mivla::v1::Pose& p = a.end_effector();
    const double pos[3] = {p.x(), p.y(), p.z()};
    const char* names[3] = {"x", "y", "z"};
    for (int i = 0; i < 3; ++i) {
      if (!(std::abs(pos[i]) <= limits.workspace_m)) {
        return OutOfRange(absl::StrCat(f, ".end_effector.", names[i]), pos[i], -limits.workspace_m, limits.workspace_m);
      }
    }
    const double q[4] = {p.qw(), p.qx(), p.qy(), p.qz()};
    const char* qnames[4] = {"qw", "qx", "qy", "qz"};
    for (int i = 0; i < 4; ++i) {
      if (!(std::abs(q[i]) <= 1.01)) return OutOfRange(absl::StrCat(f, ".end_effector.", qnames[i]), q[i], -1.01, 1.01);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<InputRanges> InputRanges::Load(const std::string& dir) {
  InputRanges out;
  for (action::Embodiment e : action::kAllEmbodiments) {
    if (!action::IsRobot(e)) continue;
    absl::StatusOr<kinematics::EmbodimentDescription> d = kinematics::LoadEmbodiment(e, dir);
    if (!d.ok()) return WithPrefix(d.status(), "input ranges: ");
    for (const kinematics::ArmDescription& a : d->arms) {
      ArmRange& r = out.arms_[static_cast<int>(e)][a.side == kinematics::Side::kLeft ? 0 : 1];
      if (a.chain.num_joints() != 6) {
        return absl::InvalidArgumentError(absl::StrCat("input ranges: ", kinematics::EmbodimentFileName(e), " arm '",
                                                       a.name, "' has ", a.chain.num_joints(), " joints, want 6"));
      }
      for (int j = 0; j < 6; ++j) r.lower[j] = a.chain.lower()[j], r.upper[j] = a.chain.upper()[j];
      r.gripper_min = a.gripper.min_m;
      r.gripper_max = a.gripper.max_m;
      r.known = true;
    }
  }
  return out;
}

absl::Status CheckProprioceptionRanges(const mivla::v1::Proprioception& p, action::Embodiment e,
                                       const InputRanges* ranges, const InputLimits& limits) {
  if (p.unified_size() > 0) {
    for (int i = 0; i < p.unified_size(); ++i) {
      const double v = p.unified(i);
      if (!(std::abs(v) <= limits.max_unified_abs)) {
        return OutOfRange(absl::StrCat("proprioception.unified[", i, "]"), v, -limits.max_unified_abs,
                          limits.max_unified_abs);
      }
    }
    return absl::OkStatus();
  }
  static const ArmRange kUnknown;
  const auto range = [&](int side) -> const ArmRange& { return ranges ? ranges->arm(e, side) : kUnknown; };
  if (p.has_right()) {
    if (absl::Status s = CheckArm(p.right(), range(1), "proprioception.right", limits); !s.ok()) return s;
  }
  if (p.has_left() && action::NumArms(e) == 2) {
    if (absl::Status s = CheckArm(p.left(), range(0), "proprioception.left", limits); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace mivla::server
