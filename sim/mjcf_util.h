// File: mjcf_util.h
// Small helpers for writing MJCF (MuJoCo XML) as strings in C++: number/vector/quaternion formatting,
// pose attributes, and camera "look at" orientations. Pure functions; thread-safe.
#ifndef MIVLA_SIM_MJCF_UTIL_H_
#define MIVLA_SIM_MJCF_UTIL_H_

#include <string>

#include "Eigen/Core"
#include "Eigen/Geometry"

namespace mivla::sim {

/// "%.6g" of one number.
std::string Num(double v);
/// "x y z".
std::string Vec(const Eigen::Vector3d& v);
/// "r g b a".
std::string Rgba(const Eigen::Vector4d& c);
/// MuJoCo quaternion "w x y z" of a rotation matrix.
std::string Quat(const Eigen::Matrix3d& r);
/// ` pos="..." quat="..."` for a pose (leading space included).
std::string PoseAttr(const Eigen::Isometry3d& pose);
/// Orientation of a MuJoCo camera (it looks along its -z, +y up) at `eye` looking at `target`,
/// rolled by `roll_rad` about the viewing direction; world up is +z.
Eigen::Matrix3d LookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& target, double roll_rad = 0);
/// Rotation about a unit axis.
Eigen::Matrix3d AxisAngle(const Eigen::Vector3d& axis, double angle);
/// Top-down grasp frame: +z points down (approach), +y (the closing axis) at yaw `yaw` in the table plane.
Eigen::Matrix3d TopDownFrame(double yaw);

}  // namespace mivla::sim

#endif  // MIVLA_SIM_MJCF_UTIL_H_
