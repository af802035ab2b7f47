// File: rig.h
// An embodiment as placed in the tabletop scene: its MJCF bodies and actuators (robot arms from
// core/kinematics descriptions via arm_mjcf.h, or two mocap hands via hand_mjcf.h), where its base
// sits relative to the table, and one Effector per arm/hand with what a controller needs (chain, base
// pose in the world, TCP offset, or the hand's grasp frame). Plain values; safe to share read-only.
#ifndef MIVLA_SIM_RIG_H_
#define MIVLA_SIM_RIG_H_

#include <string>
#include <vector>

#include "Eigen/Geometry"
#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "core/kinematics/embodiment.h"
#include "sim/arm_mjcf.h"

namespace mivla::sim {

struct Effector {
  std::string prefix;  // MJCF name prefix, e.g. "r_"
  kinematics::Side side = kinematics::Side::kRight;
  bool is_hand = false;
  // Robots.
  kinematics::ArmDescription arm;
  Eigen::Isometry3d base_world = Eigen::Isometry3d::Identity();  // world -> embodiment frame
  Eigen::Isometry3d tcp_in_ee = Eigen::Isometry3d::Identity();   // chain tool frame -> TCP
  /// Grasp frame (world) of the ready pose the arm starts in (solved by IK from `arm.home` at load).
  Eigen::Isometry3d ready_tcp = Eigen::Isometry3d::Identity();
  GripperGeometry gripper;
  // Hands.
  Eigen::Isometry3d grasp_in_wrist = Eigen::Isometry3d::Identity();
  Eigen::Isometry3d rest_wrist = Eigen::Isometry3d::Identity();  // world pose at the episode start
  /// Widest opening between the grasp surfaces (m).
  double max_opening_m = 0.07;
};

struct Rig {
  action::Embodiment embodiment = action::Embodiment::kPiper;
  kinematics::EmbodimentDescription description;
  std::vector<Effector> effectors;  // right first, then left (when present)
  std::string bodies_xml;           // goes in <worldbody>
  std::string actuators_xml;        // goes in <actuator>
  std::string equality_xml;         // goes in <equality> (hands' mocap welds)
  std::vector<std::string> cameras; // camera names, head/egocentric first

  const Effector* Find(kinematics::Side side) const;
};

/// Builds the rig with its base placed for a table whose top is at `table_z` (world +z up, the
/// robot's side of the table at x < 0, the workspace at x > 0). `embodiment_dir` as in
/// kinematics::LoadEmbodiment.
absl::StatusOr<Rig> BuildRig(action::Embodiment embodiment, double table_z, const std::string& embodiment_dir = "");

/// The embodiment's scene camera (robots: "head"; human: "ego").
std::string MainCameraName(action::Embodiment embodiment);

}  // namespace mivla::sim

#endif  // MIVLA_SIM_RIG_H_
