// File: hand_mjcf.h
// MJCF for one human hand: a wrist body (free, welded to a mocap target that drives it) carrying the palm, four fingers with three hinge
// joints each and a three-hinge thumb, skin-coloured capsules, position actuators (one per finger
// joint), and one site per ARKit hand joint named as EgoDex names it (e.g. "rightIndexFingerTip",
// "leftThumbKnuckle", "rightHand" for the wrist) so a recorder can read their world transforms.
// The right hand is built in the project's wrist frame (+x wrist -> middle knuckle, +y back of the hand,
// +z toward the thumb); the left hand is its mirror image (x negated), as in human.json.
// Pure functions; thread-safe.
#ifndef MIVLA_SIM_HAND_MJCF_H_
#define MIVLA_SIM_HAND_MJCF_H_

#include <string>
#include <vector>

#include "Eigen/Geometry"
#include "core/kinematics/embodiment.h"

namespace mivla::sim {

struct HandMjcfOptions {
  std::string prefix;  // e.g. "rh_"
  kinematics::Side side = kinematics::Side::kRight;
  Eigen::Vector4d skin_rgba{0.87, 0.68, 0.56, 1.0};
  Eigen::Isometry3d initial_wrist = Eigen::Isometry3d::Identity();  // world pose of the mocap body
};

/// The mocap target "<prefix>target" and the free hand body "<prefix>hand" with its fingers (goes in
/// <worldbody>); HandEqualityMjcf welds the hand to the target (goes in <equality>).
std::string HandBodiesMjcf(const kinematics::HandDescription& hand, const HandMjcfOptions& options);
std::string HandEqualityMjcf(const HandMjcfOptions& options);
/// Position actuators "<prefix>act<i>", one per finger joint, in HandJointNames order.
std::string HandActuatorsMjcf(const HandMjcfOptions& options);
/// Joint names (with prefix) in actuator order.
std::vector<std::string> HandJointNames(const std::string& prefix);
/// Target angle of each finger joint (HandJointNames order) at grasp closure c in [0, 1].
std::vector<double> HandClosureTargets(double closure);
/// ARKit joint names of one side that the hand model carries as sites (wrist first).
std::vector<std::string> ArkitHandJointNames(kinematics::Side side);
/// Wrist frame -> grasp frame G (+z out of the palm, +y from the thumb toward the fingers, origin
/// where a grasped object sits under the palm).
Eigen::Isometry3d HandGraspInWrist(kinematics::Side side);

}  // namespace mivla::sim

#endif  // MIVLA_SIM_HAND_MJCF_H_
