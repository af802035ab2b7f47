// File: human_to_robot.h
// Human -> robot action mapping (paper eq. 2): for each robot arm, the end-effector target is the
// arm's initial pose E_0 composed with the motion of the same-side hand's reference point since the
// start, rotated from the human's world axes into the robot's base axes:
//   p(E_t) = p(E_0) + s * C * (p(K_t) - p(K_0)),   R(E_t) = C * R(K_t) * R(K_0)^T * C^T * R(E_0),
// then IK (seeded with the previous frame's joints) gives the joints, and the gripper follows the
// thumb-index distance. With MappingMode::kAbsolute the target is R(E) = C R(K) ee_in_hand, p(E) = s C p(K).
// Defaults (mapping_options.h): relative, thumb knuckle (from the hand prior when the slice lacks it).
//
// Frames: the human world is ARKit's (+y up, +z toward the user); the end-effector targets are in the arm's
// base frame (+x forward, +y left, +z up). C = human_to_base of the embodiment JSON is the same for every
// robot: ARKit -z (away from the user) -> base +x, +y -> +z, +x (the user's right) -> -y (the robot's
// right), i.e. the user stands behind the robot and faces the way it faces. A hand raised by d moves the
// end effector up by s d; a hand pushed away from the user by d moves it forward by s d.
//
//   ASSIGN_OR_RETURN(auto mapper, HumanToRobotMapper::Create(piper, hand, {}));
//   RETURN_IF_ERROR(mapper.Reset(first_frame_hands));            // E_0 from the home pose
//   for (...) { ASSIGN_OR_RETURN(std::vector<ArmCommand> cmd, mapper.Step(hands)); }
//
// Stateful (the previous joints); not thread-safe: one mapper per episode/thread.
#ifndef MIVLA_CORE_RETARGET_HUMAN_TO_ROBOT_H_
#define MIVLA_CORE_RETARGET_HUMAN_TO_ROBOT_H_

#include <vector>

#include "Eigen/Geometry"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "core/kinematics/embodiment.h"
#include "core/kinematics/ik_solver.h"
#include "core/retarget/hand_pose.h"
#include "core/retarget/hand_prior.h"
#include "core/retarget/mapping_options.h"

namespace mivla::retarget {

struct ArmCommand {
  Side side = Side::kRight;
  bool hand_present = false;  // false: no hand this frame, joints held
  Eigen::Isometry3d ee_target = Eigen::Isometry3d::Identity();
  kinematics::JointVector joints;  // always finite and within limits (held on failure)
  double gripper = 0.0;
  absl::Status ik_status;  // OutOfRange (with the residual) when the target was unreachable
  double position_error_m = 0.0;  // residual of `joints` against `ee_target`
  double rotation_error_rad = 0.0;
};

class HumanToRobotMapper {
 public:
  struct Options {
    MappingOptions mapping;
    kinematics::IkSolver::Options ik;
  };

  static absl::StatusOr<HumanToRobotMapper> Create(kinematics::EmbodimentDescription robot,
                                                   const kinematics::HandDescription& hand, Options options);

  const kinematics::EmbodimentDescription& embodiment() const { return robot_; }
  int num_arms() const { return static_cast<int>(robot_.arms.size()); }

  /// Starts an episode. `initial_joints`: one vector per arm (in the order of embodiment().arms), or
  /// empty for the home poses. `initial_hands` gives K_0 (relative mode); an arm whose hand is absent
  /// is anchored at the frame where its hand first appears (K_0 = that hand, E_0 = the arm's pose then).
  absl::Status Reset(const HumanHands& initial_hands, const std::vector<kinematics::JointVector>& initial_joints = {});

  /// Eq. 2 (or the absolute map) for arm `arm` without IK.
  absl::StatusOr<Eigen::Isometry3d> TargetPose(int arm, const HandPose& hand) const;

  /// One frame: targets, IK and grippers for every arm. Errors only for invalid input or a missing
  /// Reset; an unreachable target is reported in that arm's ik_status.
  absl::StatusOr<std::vector<ArmCommand>> Step(const HumanHands& hands);

 private:
  HumanToRobotMapper(kinematics::EmbodimentDescription robot, HandPrior prior, Options options)
      : robot_(std::move(robot)), prior_(std::move(prior)), options_(options) {}
  Eigen::Isometry3d Reference(const HandPose& hand, Side side) const;

  kinematics::EmbodimentDescription robot_;
  HandPrior prior_;
  Options options_;
  std::vector<kinematics::IkSolver> solvers_;
  bool started_ = false;
  std::vector<Eigen::Isometry3d> e0_;  // E_0 per arm
  std::vector<Eigen::Isometry3d> k0_;  // K_0 per arm
  std::vector<bool> anchored_;         // K_0 known for the arm
  std::vector<kinematics::JointVector> joints_;
};

/// Writes commands into the robot-joint and end-effector slices of a 76-value action (FK pose of the
/// commanded joints) and sets their mask bits. A one-armed robot's arm is the right one.
void WriteRobotSlices(const kinematics::EmbodimentDescription& robot, const std::vector<ArmCommand>& commands,
                      double* action76, action::ActionMask* mask);

}  // namespace mivla::retarget

#endif  // MIVLA_CORE_RETARGET_HUMAN_TO_ROBOT_H_
