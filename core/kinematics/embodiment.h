// File: embodiment.h
// Embodiment descriptions as plain data: a robot is a set of arms (kinematic chain, gripper range,
// home pose, retargeting frames); the human is a hand model (anatomical priors). Loaded from one JSON
// file per embodiment by embodiment_loader.h. Plain values; safe to share read-only across threads.
#ifndef MIVLA_CORE_KINEMATICS_EMBODIMENT_H_
#define MIVLA_CORE_KINEMATICS_EMBODIMENT_H_

#include <array>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "core/action/action_space.h"
#include "core/kinematics/kinematic_chain.h"

namespace mivla::kinematics {

/// Left/right arm or hand. A one-armed robot's arm is kRight (it uses the right-arm action slots).
enum class Side : int { kLeft = 0, kRight = 1 };
inline const char* SideName(Side s) { return s == Side::kLeft ? "left" : "right"; }

struct GripperSpec {
  double min_m = 0.0;  // opening when closed
  double max_m = 0.0;  // opening when fully open
  double max_velocity = 0.0;  // units/s; 0 = not specified
  std::string units = "m";    // "m" (opening width) or "rad" (servo angle, LocoMan)
};

/// Fixed rotations used by human <-> robot mapping (docs/action-space.md, C_h2r). The paper's single C_h2r is
/// split in two. `human_to_base` takes vectors in the human's world axes to the robot's base axes
/// (v_base = C * v_human); it is the only part that enters the relative mapping of eq. 2.
/// `ee_in_hand` holds the end-effector frame's axes expressed in the hand frame of this arm's side
/// (its columns), so that an absolute hand orientation maps as R(E) = C * R(K) * ee_in_hand (eq. 3 is
/// the inverse). Left and right hand frames are mirrored, so `ee_in_hand` differs between sides.
struct RetargetFrames {
  Eigen::Matrix3d human_to_base = Eigen::Matrix3d::Identity();
  Eigen::Matrix3d ee_in_hand = Eigen::Matrix3d::Identity();
};

struct ArmDescription {
  std::string name;
  Side side = Side::kRight;
  KinematicChain chain;  // base frame = the embodiment frame (e.g. ALOHA footprint, Go1 trunk)
  GripperSpec gripper;
  JointVector home;      // a comfortable in-limit start pose (also an IK seed)
  RetargetFrames retarget;
};

/// Anatomical hand prior, described for the right hand in its wrist frame: +x from the wrist toward
/// the middle knuckle, +y out of the back of the hand, +z toward the thumb. The left hand is the
/// mirror image: its geometry is `left_mirror * (right-hand geometry)` (x negated by default).
struct HandDescription {
  double hand_length_m = 0.0;   // wrist crease to middle fingertip
  double hand_breadth_m = 0.0;  // across the metacarpal heads
  std::array<double, 5> finger_length_m{};  // thumb, index, middle, ring, little
  Eigen::Vector3d thumb_knuckle_m = Eigen::Vector3d::Zero();  // right hand, wrist frame
  double pinch_closed_m = 0.0;  // thumb-index tip distance read as a closed gripper
  double pinch_open_m = 0.0;    // ... read as a fully open gripper
  double closed_flexion_rad = 0.0;  // finger flexion (MCP-to-tip chord) when the pinch is closed
  Eigen::Vector3d pinch_direction = Eigen::Vector3d::UnitZ();  // index tip -> thumb tip, right hand
  Eigen::Matrix3d left_mirror = Eigen::Vector3d(-1.0, 1.0, 1.0).asDiagonal();
};

struct EmbodimentDescription {
  action::Embodiment tag = action::Embodiment::kPiper;
  std::string name;         // canonical tag name, e.g. "PIPER"
  std::string description;  // free text
  std::vector<std::string> sources;  // where the numbers come from
  std::vector<ArmDescription> arms;  // empty for the human
  bool has_hand = false;  // true for the human
  HandDescription hand;   // valid when has_hand

  /// The arm on `side`, or nullptr.
  const ArmDescription* FindArm(Side side) const {
    for (const ArmDescription& a : arms) {
      if (a.side == side) return &a;
    }
    return nullptr;
  }
};

}  // namespace mivla::kinematics

#endif  // MIVLA_CORE_KINEMATICS_EMBODIMENT_H_
