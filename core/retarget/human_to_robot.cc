#include "core/retarget/human_to_robot.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/action/rotation.h"
#include "core/kinematics/transforms.h"
#include "core/util/status_macros.h"

namespace mivla::retarget {
namespace {

using kinematics::ArmDescription;
using kinematics::JointVector;

absl::Status CheckHand(const HandPose& h, Side side) {
  bool finite = h.wrist.matrix().allFinite() && (!h.has_thumb_knuckle || h.thumb_knuckle.matrix().allFinite());
  for (const Eigen::Vector3d& t : h.tips) finite = finite && t.allFinite();
  if (!finite) return absl::InvalidArgumentError(absl::StrCat(kinematics::SideName(side), " hand has non-finite values"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<HumanToRobotMapper> HumanToRobotMapper::Create(kinematics::EmbodimentDescription robot,
                                                              const kinematics::HandDescription& hand,
                                                              Options options) {
  if (robot.arms.empty()) return absl::InvalidArgumentError(absl::StrCat(robot.name, " has no arms to retarget to"));
  if (!(options.mapping.position_scale > 0) || !std::isfinite(options.mapping.position_scale)) {
    return absl::InvalidArgumentError("position_scale must be a positive finite number");
  }
  ASSIGN_OR_RETURN(HandPrior prior, HandPrior::Create(hand));
  HumanToRobotMapper m(std::move(robot), std::move(prior), options);
  for (const ArmDescription& arm : m.robot_.arms) {
    ASSIGN_OR_RETURN(kinematics::IkSolver s, kinematics::IkSolver::Create(arm.chain, options.ik, arm.home));
    m.solvers_.push_back(std::move(s));
  }
  return m;
}

Eigen::Isometry3d HumanToRobotMapper::Reference(const HandPose& hand, Side side) const {
  if (options_.mapping.reference == ReferencePoint::kWrist) return hand.wrist;
  if (hand.has_thumb_knuckle) return hand.thumb_knuckle;
  return prior_.KnuckleFromWrist(hand.wrist, side);
}

absl::Status HumanToRobotMapper::Reset(const HumanHands& initial_hands,
                                       const std::vector<JointVector>& initial_joints) {
  if (!initial_joints.empty() && static_cast<int>(initial_joints.size()) != num_arms()) {
    return absl::InvalidArgumentError(absl::StrCat(robot_.name, " has ", num_arms(), " arm(s), got ",
                                                   initial_joints.size(), " initial joint vectors"));
  }
  std::vector<Eigen::Isometry3d> e0, k0;
  std::vector<JointVector> joints;
  std::vector<bool> anchored;
  for (int a = 0; a < num_arms(); ++a) {
    const ArmDescription& arm = robot_.arms[a];
    JointVector q = initial_joints.empty() ? arm.home : initial_joints[a];
    ASSIGN_OR_RETURN(Eigen::Isometry3d e, arm.chain.Forward(q));
    q = arm.chain.Clamp(q);
    e0.push_back(e);
    joints.push_back(q);
    // A hand absent at the start anchors its arm when it first appears (see Step).
    const bool has = initial_hands.has(arm.side);
    if (has) RETURN_IF_ERROR(CheckHand(initial_hands.at(arm.side), arm.side));
    k0.push_back(has ? Reference(initial_hands.at(arm.side), arm.side) : Eigen::Isometry3d::Identity());
    anchored.push_back(has);
  }
  e0_ = std::move(e0);
  k0_ = std::move(k0);
  anchored_ = std::move(anchored);
  joints_ = std::move(joints);
  started_ = true;
  return absl::OkStatus();
}

absl::StatusOr<Eigen::Isometry3d> HumanToRobotMapper::TargetPose(int arm, const HandPose& hand) const {
  if (arm < 0 || arm >= num_arms()) return absl::InvalidArgumentError(absl::StrCat("no arm ", arm));
  const ArmDescription& a = robot_.arms[arm];
  RETURN_IF_ERROR(CheckHand(hand, a.side));
  const Eigen::Matrix3d& c = a.retarget.human_to_base;
  const double s = options_.mapping.position_scale;
  const Eigen::Isometry3d k = Reference(hand, a.side);
  Eigen::Isometry3d e = Eigen::Isometry3d::Identity();
  if (options_.mapping.mode == MappingMode::kAbsolute) {
    e.linear() = c * k.linear() * a.retarget.ee_in_hand;
    e.translation() = s * c * k.translation();
  } else {
    if (!started_) return absl::FailedPreconditionError("relative mapping needs Reset() first");
    if (!anchored_[arm]) {
      return absl::FailedPreconditionError(absl::StrCat("no initial ", kinematics::SideName(a.side), " hand yet"));
    }
    const Eigen::Isometry3d& k0 = k0_[arm];
    const Eigen::Isometry3d& e0 = e0_[arm];
    e.translation() = e0.translation() + s * c * (k.translation() - k0.translation());
    e.linear() = c * k.linear() * k0.linear().transpose() * c.transpose() * e0.linear();
  }
  e.linear() = action::Orthonormalize(e.linear());  // hand rotations from data may drift from SO(3)
  return e;
}

absl::StatusOr<std::vector<ArmCommand>> HumanToRobotMapper::Step(const HumanHands& hands) {
  if (!started_) return absl::FailedPreconditionError("HumanToRobotMapper::Step needs Reset() first");
  std::vector<ArmCommand> out(num_arms());
  for (int a = 0; a < num_arms(); ++a) {
    const ArmDescription& arm = robot_.arms[a];
    ArmCommand& cmd = out[a];
    cmd.side = arm.side;
    cmd.joints = joints_[a];
    cmd.hand_present = hands.has(arm.side);
    if (!cmd.hand_present) {
      cmd.ee_target = arm.chain.ForwardUnchecked(cmd.joints);
      cmd.ik_status = absl::OkStatus();
      cmd.gripper = arm.gripper.min_m;
      continue;
    }
    const HandPose& hand = hands.at(arm.side);
    if (!anchored_[a]) {  // first appearance of this hand: anchor it to where the arm is now
      RETURN_IF_ERROR(CheckHand(hand, arm.side));
      k0_[a] = Reference(hand, arm.side);
      e0_[a] = arm.chain.ForwardUnchecked(joints_[a]);
      anchored_[a] = true;
    }
    ASSIGN_OR_RETURN(cmd.ee_target, TargetPose(a, hand));
    cmd.gripper = GripperFromOpening(arm.gripper, prior_.OpeningFromPinch(PinchDistance(hand)));
    kinematics::IkSolution best;
    absl::StatusOr<kinematics::IkSolution> sol = solvers_[a].Solve(cmd.ee_target, joints_[a], &best);
    if (sol.ok()) {
      joints_[a] = sol->joints;
      cmd.joints = sol->joints;
      cmd.position_error_m = sol->position_error_m;
      cmd.rotation_error_rad = sol->rotation_error_rad;
    } else {
      cmd.ik_status = sol.status();  // joints held at the previous frame's
      const kinematics::PoseDistance d =
          kinematics::DistanceBetween(arm.chain.ForwardUnchecked(cmd.joints), cmd.ee_target);
      cmd.position_error_m = d.position_m;
      cmd.rotation_error_rad = d.rotation_rad;
    }
  }
  return out;
}

void WriteRobotSlices(const kinematics::EmbodimentDescription& robot, const std::vector<ArmCommand>& commands,
                      double* action76, action::ActionMask* mask) {
  for (size_t i = 0; i < commands.size() && i < robot.arms.size(); ++i) {
    const ArmCommand& c = commands[i];
    const bool left = c.side == Side::kLeft;
    const action::Slice& js = left ? action::kJointsLeft : action::kJointsRight;
    const action::Slice& es = left ? action::kEndEffectorLeft : action::kEndEffectorRight;
    for (int j = 0; j < c.joints.size() && j < 6; ++j) action76[js.begin + action::kArmJoints + j] = c.joints[j];
    action76[js.begin + action::kArmGripper] = c.gripper;
    const Eigen::Isometry3d ee = robot.arms[i].chain.ForwardUnchecked(c.joints);
    for (int k = 0; k < 3; ++k) action76[es.begin + action::kEePos + k] = ee.translation()[k];
    const action::QuatWxyz q = action::QuatFromMatrix(ee.linear());
    for (int k = 0; k < 4; ++k) action76[es.begin + action::kEeQuat + k] = q[k];
    if (mask != nullptr) *mask |= action::SliceMask(js) | action::SliceMask(es);
  }
}

}  // namespace mivla::retarget
