// File: embodiment_adapter.h
// Retargeting on the client: adapts a robot to the embodiment its policy session speaks, both ways.
//  - kJoints: the model was trained on this robot; the chunk's joint targets and gripper drive it
//    directly (session embodiment = the robot's).
//  - kIk: the model was not trained on this robot; the session speaks another arm embodiment with the
//    same number of arms (e.g. PiPER for an ARX-5) and the robot follows the chunk's end-effector poses
//    through its own IK (seeded with the previous solution; the gripper maps range to range).
//  - kHuman: a human-only model; the session is HUMAN, the chunk's human slice is mapped onto the robot
//    with the human -> robot mapping (paper eq. 2, HumanToRobotMapper, anchored at the first step).
//  - kAuto: chosen from the model's embodiments (GetPolicyInfo) by ResolveRetarget: joints when the
//    model knows the robot, else IK through an arm embodiment it knows with as many arms, else human.
// LocoMan's arms are its composite 3 leg + 3 servo chains (core/kinematics/embodiments/locoman.json), so
// IK and the human mapping move leg and manipulator joints together.
// Observations go the other way: native per-arm state for kJoints, the end-effector poses (and this
// robot's joints) in the session embodiment's slots for kIk, and the hands the robot's poses map to
// (robot -> human, eq. 3, absolute: hands in the camera world, as a human recording has them) as the
// unified human slice for kHuman.
// Arms are in the robot description's order (right first for the sim rig). A step whose targets are
// not finite, or whose IK target cannot be read, yields non-finite joints so that the safety layer holds.
//
// Not thread-safe (per-episode state: IK seeds, the eq. 2 anchor); one adapter per robot.
#ifndef MIVLA_CLIENT_ROBOT_EMBODIMENT_ADAPTER_H_
#define MIVLA_CLIENT_ROBOT_EMBODIMENT_ADAPTER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/driver/robot_driver.h"
#include "core/kinematics/ik_solver.h"
#include "core/retarget/human_to_robot.h"
#include "core/retarget/robot_to_human.h"
#include "mivla/v1/policy.pb.h"
#include "proto/request_builder.h"

namespace mivla::client {

enum class RetargetMode { kJoints, kIk, kHuman, kAuto };
const char* RetargetModeName(RetargetMode m);
absl::StatusOr<RetargetMode> ParseRetargetMode(const std::string& name);  // "joints", "ik", "human", "auto"

struct AdapterOptions {
  RetargetMode mode = RetargetMode::kJoints;
  /// The embodiment the session speaks; unset: the robot's own (joints, ik) or HUMAN (human). kIk with
  /// another arm embodiment: the arm the model knows.
  std::optional<action::Embodiment> session_embodiment;
  /// kHuman: eq. 2 on the wrist (the 48-value slice carries wrists and fingertips), relative motion.
  retarget::MappingOptions mapping{1.0, retarget::ReferencePoint::kWrist, retarget::MappingMode::kRelative};
  kinematics::IkSolver::Options ik;
  std::string embodiment_dir;        // as kinematics::LoadEmbodiment
};

/// kAuto -> a concrete mode and session embodiment for `robot` given the embodiments the model serves
/// (other modes pass through). FailedPrecondition when the model knows neither the robot, nor an arm
/// embodiment with as many arms, nor the human.
absl::StatusOr<AdapterOptions> ResolveRetarget(AdapterOptions options, const kinematics::EmbodimentDescription& robot,
                                               const std::vector<action::Embodiment>& model_embodiments);

class EmbodimentAdapter {
 public:
  /// `robot`: the driver's description (arm order = command order). InvalidArgument naming the option
  /// for an inconsistent combination (kJoints with another embodiment, an arm-count mismatch, ...).
  static absl::StatusOr<std::unique_ptr<EmbodimentAdapter>> Create(const kinematics::EmbodimentDescription& robot,
                                                                   AdapterOptions options);

  action::Embodiment session_embodiment() const { return session_tag_; }

  /// Starts an episode from the measured state (IK seeds; kHuman anchors at the next chunk's first step).
  void Reset(const RobotReading& measured);
  /// The observation's proprioception for the session embodiment.
  absl::Status FillProprioception(const RobotReading& measured, mivla::v1::Proprioception* out) const;
  /// One chunk step -> targets for every arm.
  absl::StatusOr<RobotCommand> Map(const request::DecodedStep& step);

  int ik_failures() const { return ik_failures_; }

 private:
  EmbodimentAdapter() = default;
  RobotCommand NonFinite() const;

  kinematics::EmbodimentDescription robot_;
  kinematics::EmbodimentDescription session_;  // kIk: the session's arms (gripper ranges)
  AdapterOptions options_;
  action::Embodiment session_tag_ = action::Embodiment::kPiper;
  std::vector<kinematics::IkSolver> solvers_;
  std::vector<kinematics::JointVector> seeds_;
  std::optional<retarget::HumanToRobotMapper> h2r_;
  std::optional<retarget::RobotToHumanMapper> r2h_;
  bool h2r_anchored_ = false;
  std::vector<kinematics::JointVector> initial_joints_;
  int ik_failures_ = 0;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_ROBOT_EMBODIMENT_ADAPTER_H_
