#include "core/retarget/robot_to_human.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/action/rotation.h"
#include "core/kinematics/transforms.h"
#include "core/util/status_macros.h"

namespace mivla::retarget {

using kinematics::ArmDescription;
using kinematics::JointVector;

absl::StatusOr<RobotToHumanMapper> RobotToHumanMapper::Create(kinematics::EmbodimentDescription robot,
                                                              const kinematics::HandDescription& hand,
                                                              Options options) {
  if (robot.arms.empty()) return absl::InvalidArgumentError(absl::StrCat(robot.name, " has no arms"));
  if (!(options.mapping.position_scale > 0) || !std::isfinite(options.mapping.position_scale)) {
    return absl::InvalidArgumentError("position_scale must be a positive finite number");
  }
  ASSIGN_OR_RETURN(HandPrior prior, HandPrior::Create(hand));
  return RobotToHumanMapper(std::move(robot), std::move(prior), options);
}

absl::Status RobotToHumanMapper::Reset(const std::vector<JointVector>& initial_joints,
                                       const HumanHands& initial_hands) {
  const size_t n = robot_.arms.size();
  if (!initial_joints.empty() && initial_joints.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(robot_.name, " has ", n, " arm(s), got ", initial_joints.size(),
                                                   " initial joint vectors"));
  }
  std::vector<Eigen::Isometry3d> e0, k0;
  for (size_t a = 0; a < n; ++a) {
    const ArmDescription& arm = robot_.arms[a];
    ASSIGN_OR_RETURN(Eigen::Isometry3d e, arm.chain.Forward(initial_joints.empty() ? arm.home : initial_joints[a]));
    e0.push_back(e);
    if (!initial_hands.has(arm.side)) {
      // No human counterpart of the start: K_0 is E_0 through the absolute map, R(K_0) = C^T R(E_0)
      // ee_in_hand^T, p(K_0) = C^T p(E_0) / s, so the relative map coincides with the absolute one.
      const Eigen::Matrix3d& c = arm.retarget.human_to_base;
      Eigen::Isometry3d k = Eigen::Isometry3d::Identity();
      k.linear() = c.transpose() * action::Orthonormalize(e.linear()) * arm.retarget.ee_in_hand.transpose();
      k.translation() = c.transpose() * e.translation() / options_.mapping.position_scale;
      k0.push_back(k);
      continue;
    }
    const HandPose& h = initial_hands.at(arm.side);
    if (!h.wrist.matrix().allFinite()) return absl::InvalidArgumentError("initial hand pose is not finite");
    k0.push_back(options_.mapping.reference == ReferencePoint::kWrist
                     ? h.wrist
                     : (h.has_thumb_knuckle ? h.thumb_knuckle : prior_.KnuckleFromWrist(h.wrist, arm.side)));
  }
  e0_ = std::move(e0);
  k0_ = std::move(k0);
  started_ = true;
  return absl::OkStatus();
}

absl::StatusOr<HumanHands> RobotToHumanMapper::MapPoses(const std::vector<Eigen::Isometry3d>& ee,
                                                        const std::vector<double>& grippers) const {
  const size_t n = robot_.arms.size();
  if (ee.size() != n || grippers.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(robot_.name, " needs ", n, " end-effector pose(s) and gripper value(s)"));
  }
  if (options_.mapping.mode == MappingMode::kRelative && !started_) {
    return absl::FailedPreconditionError("relative robot->human mapping needs Reset() first");
  }
  const double s = options_.mapping.position_scale;
  HumanHands out;
  for (size_t a = 0; a < n; ++a) {
    const ArmDescription& arm = robot_.arms[a];
    if (!ee[a].matrix().allFinite() || !std::isfinite(grippers[a])) {
      return absl::InvalidArgumentError(absl::StrCat("arm '", arm.name, "': pose or gripper is not finite"));
    }
    const Eigen::Matrix3d& c = arm.retarget.human_to_base;
    const Eigen::Matrix3d r_e = action::Orthonormalize(ee[a].linear());
    Eigen::Isometry3d k = Eigen::Isometry3d::Identity();
    if (options_.mapping.mode == MappingMode::kAbsolute) {
      k.linear() = c.transpose() * r_e * arm.retarget.ee_in_hand.transpose();
      k.translation() = c.transpose() * ee[a].translation() / s;
    } else {
      k.linear() = c.transpose() * r_e * e0_[a].linear().transpose() * c * k0_[a].linear();
      k.translation() = k0_[a].translation() + c.transpose() * (ee[a].translation() - e0_[a].translation()) / s;
    }
    const Eigen::Isometry3d wrist = options_.mapping.reference == ReferencePoint::kWrist
                                        ? k
                                        : prior_.WristFromKnuckle(k, arm.side);
    out.Set(arm.side, prior_.HandAt(wrist, arm.side, OpeningFromGripper(arm.gripper, grippers[a])));
  }
  return out;
}

absl::StatusOr<HumanHands> RobotToHumanMapper::Map(const std::vector<JointVector>& joints,
                                                   const std::vector<double>& grippers) const {
  if (joints.size() != robot_.arms.size()) {
    return absl::InvalidArgumentError(absl::StrCat(robot_.name, " needs ", robot_.arms.size(), " joint vector(s)"));
  }
  std::vector<Eigen::Isometry3d> ee;
  for (size_t a = 0; a < joints.size(); ++a) {
    ASSIGN_OR_RETURN(Eigen::Isometry3d e, robot_.arms[a].chain.Forward(joints[a]));
    ee.push_back(e);
  }
  return MapPoses(ee, grippers);
}

}  // namespace mivla::retarget
