// File: arm_mjcf.h
// MJCF for one robot arm generated from its core/kinematics description: one body per joint (body
// frame = the chain's joint origin with its theta offset, joint axis = the chain's axis, range = the
// chain's limits), capsule links between joint origins, an `ee` site at the chain's tool frame, a
// position-controlled parallel gripper (two slide fingers) and a wrist camera. Because the bodies are
// the chain's frames, MuJoCo's forward kinematics equals KinematicChain::Forward (see arm_mjcf_test).
// Pure functions; thread-safe.
//
// Names (prefix p): joints p+"j0".."j5", fingers p+"finger_a"/p+"finger_b", actuators p+"act0".. and
// p+"grip_a"/p+"grip_b", sites p+"ee" and p+"tcp", camera p+"wrist".
#ifndef MIVLA_SIM_ARM_MJCF_H_
#define MIVLA_SIM_ARM_MJCF_H_

#include <string>

#include "Eigen/Core"
#include "Eigen/Geometry"
#include "core/kinematics/embodiment.h"

namespace mivla::sim {

/// A parallel gripper mounted on the chain's last joint frame. Its frame G has +z along the approach
/// (out of the fingers) and +y along the closing axis; the fingers slide along +-y.
struct GripperGeometry {
  Eigen::Isometry3d mount = Eigen::Isometry3d::Identity();  // last joint frame -> G at the palm base
  double palm_length_m = 0.06;    // along +z
  double finger_length_m = 0.05;  // beyond the palm
  double max_opening_m = 0.07;    // distance between the finger pads when fully open
  double grip_force_n = 15.0;     // actuator force limit per finger
  /// G -> TCP (the grasp point between the finger pads' centres).
  Eigen::Isometry3d TcpInMount() const;
};

struct ArmMjcfOptions {
  std::string prefix;        // e.g. "r_"
  GripperGeometry gripper;
  Eigen::Vector4d link_rgba{0.75, 0.75, 0.78, 1.0};
  double link_radius_m = 0.025;
  bool wrist_camera = true;
  double wrist_camera_fovy_deg = 70.0;
};

/// Nested <body> elements for the chain, to be placed inside the body that carries the embodiment
/// frame (the chain's base transform is applied by the first body).
std::string ArmBodiesMjcf(const kinematics::ArmDescription& arm, const ArmMjcfOptions& options);
/// <position> actuators (inside <actuator>) for the joints and the two fingers.
std::string ArmActuatorsMjcf(const kinematics::ArmDescription& arm, const ArmMjcfOptions& options);
/// The chain's tool (EE) frame -> TCP, for IK targets: ee = tcp * inverse(TcpInEe).
Eigen::Isometry3d TcpInEe(const kinematics::ArmDescription& arm, const GripperGeometry& gripper);

}  // namespace mivla::sim

#endif  // MIVLA_SIM_ARM_MJCF_H_
