// File: transforms.h
// Small rigid-transform helpers shared by the kinematics and retargeting code: URDF xyz/rpy origins,
// the fixed part of a modified (Craig) DH link, the 6-D pose error used by IK, and validated
// construction of a pose from position + quaternion (w, x, y, z). Pure functions; thread-safe.
#ifndef MIVLA_CORE_KINEMATICS_TRANSFORMS_H_
#define MIVLA_CORE_KINEMATICS_TRANSFORMS_H_

#include "Eigen/Core"
#include "Eigen/Geometry"
#include "absl/status/statusor.h"
#include "core/action/rotation.h"

namespace mivla::kinematics {

/// URDF convention: R = Rz(yaw) * Ry(pitch) * Rx(roll), rpy = (roll, pitch, yaw).
Eigen::Matrix3d RotationFromRpy(const Eigen::Vector3d& rpy);
Eigen::Isometry3d PoseFromXyzRpy(const Eigen::Vector3d& xyz, const Eigen::Vector3d& rpy);

/// Fixed part of a modified-DH link, RotX(alpha) * Trans(a, 0, d). The joint's own motion RotZ(theta)
/// commutes with Trans(0, 0, d), so a DH link is this origin followed by a rotation about +z.
Eigen::Isometry3d PoseFromModifiedDh(double a, double alpha, double d);

/// Rotation error as a vector in the frame the rotations are expressed in: axis * angle of
/// target * current^T (zero when equal). Its norm is the geodesic angle, in [0, pi].
Eigen::Vector3d RotationErrorVector(const Eigen::Matrix3d& target, const Eigen::Matrix3d& current);

/// Position and geodesic rotation distance between two poses.
struct PoseDistance {
  double position_m = 0.0;
  double rotation_rad = 0.0;
};
PoseDistance DistanceBetween(const Eigen::Isometry3d& a, const Eigen::Isometry3d& b);

/// Pose from a position and a quaternion (w, x, y, z). The quaternion is normalised; a non-finite
/// value, or a quaternion whose norm is below 1e-6, is an InvalidArgument error.
absl::StatusOr<Eigen::Isometry3d> PoseFromPositionQuat(const Eigen::Vector3d& position,
                                                      const action::QuatWxyz& q);

/// True when every entry of the pose is finite and its rotation part is orthonormal within `tol`.
bool IsValidPose(const Eigen::Isometry3d& pose, double tol = 1e-6);

/// Reflection through the plane y = 0 (x forward, y left, z up: the sagittal plane of a robot or person).
inline Eigen::Matrix3d SagittalMirror() { return Eigen::Vector3d(1.0, -1.0, 1.0).asDiagonal(); }

}  // namespace mivla::kinematics

#endif  // MIVLA_CORE_KINEMATICS_TRANSFORMS_H_
