// File: robot_to_human.h
// Robot -> human action mapping (paper eq. 3): each arm's end-effector pose becomes the reference
// point (wrist or thumb knuckle) of the same-side hand through the inverse rotation,
//   relative (default):  R(K_t) = C^T R(E_t) R(E_0)^T C R(K_0),   p(K_t) = p(K_0) + C^T (p(E_t) - p(E_0)) / s
//   absolute:            R(K) = C^T R(E) ee_in_hand^T,   p(K) = C^T p(E) / s
// and the wrist and fingertips follow from the anatomical prior (hand_prior.h) and the gripper
// opening. The exact inverse of HumanToRobotMapper's pose map for the same options.
// Immutable after Create/Reset; Map is const and thread-safe.
#ifndef MIVLA_CORE_RETARGET_ROBOT_TO_HUMAN_H_
#define MIVLA_CORE_RETARGET_ROBOT_TO_HUMAN_H_

#include <vector>

#include "Eigen/Geometry"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/kinematics/embodiment.h"
#include "core/retarget/hand_pose.h"
#include "core/retarget/hand_prior.h"
#include "core/retarget/mapping_options.h"

namespace mivla::retarget {

class RobotToHumanMapper {
 public:
  struct Options {
    MappingOptions mapping;  // relative, thumb knuckle: the defaults of HumanToRobotMapper
  };

  static absl::StatusOr<RobotToHumanMapper> Create(kinematics::EmbodimentDescription robot,
                                                   const kinematics::HandDescription& hand, Options options);

  const kinematics::EmbodimentDescription& embodiment() const { return robot_; }
  const HandPrior& prior() const { return prior_; }

  /// Relative mode only: the episode's initial joints (one per arm, empty = home) and the human hands
  /// that correspond to them (K_0). An arm whose hand is absent from `initial_hands` (e.g. a robot
  /// episode with no human counterpart: pass {}) takes K_0 = the absolute map of E_0, which makes the
  /// relative map equal to the absolute one for that arm.
  absl::Status Reset(const std::vector<kinematics::JointVector>& initial_joints, const HumanHands& initial_hands);

  /// End-effector poses (one per arm, embodiment frame) and gripper values -> the arms' hands.
  absl::StatusOr<HumanHands> MapPoses(const std::vector<Eigen::Isometry3d>& ee,
                                      const std::vector<double>& grippers) const;
  /// Joints (FK first) and gripper values -> hands. NaN or wrong sizes are InvalidArgument.
  absl::StatusOr<HumanHands> Map(const std::vector<kinematics::JointVector>& joints,
                                 const std::vector<double>& grippers) const;

 private:
  RobotToHumanMapper(kinematics::EmbodimentDescription robot, HandPrior prior, Options options)
      : robot_(std::move(robot)), prior_(std::move(prior)), options_(options) {}

  kinematics::EmbodimentDescription robot_;
  HandPrior prior_;
  Options options_;
  bool started_ = false;
  std::vector<Eigen::Isometry3d> e0_, k0_;
};

}  // namespace mivla::retarget

#endif  // MIVLA_CORE_RETARGET_ROBOT_TO_HUMAN_H_
