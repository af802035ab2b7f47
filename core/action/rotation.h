// File: rotation.h
// Rotation conversions used by the unified action space: rotation matrix <-> unit quaternion (w, x, y, z)
// <-> 6D (the first two columns of R, as in H-RDT's 48-D human action), with re-orthonormalisation.
// Pure functions; thread-safe.
#ifndef MIVLA_CORE_ACTION_ROTATION_H_
#define MIVLA_CORE_ACTION_ROTATION_H_

#include <array>

#include "Eigen/Core"
#include "Eigen/Geometry"

namespace mivla::action {

/// Quaternion stored as (w, x, y, z), the order of the action space and of the wire contract.
using QuatWxyz = std::array<double, 4>;
/// 6D rotation: (R00, R10, R20, R01, R11, R21) = column 0 then column 1 of R.
using Rot6d = std::array<double, 6>;

/// Nearest proper rotation to `m` (SVD projection, det = +1). Robust to scaled or sheared input.
Eigen::Matrix3d Orthonormalize(const Eigen::Matrix3d& m);

/// Unit quaternion of `r` (re-orthonormalised first), sign chosen so that w >= 0.
QuatWxyz QuatFromMatrix(const Eigen::Matrix3d& r);
/// Rotation matrix of `q`; `q` is normalised first (a zero quaternion gives the identity).
Eigen::Matrix3d MatrixFromQuat(const QuatWxyz& q);
/// `q` scaled to unit length with w >= 0; the identity for a zero or non-finite quaternion.
QuatWxyz CanonicalQuat(const QuatWxyz& q);

Rot6d Rot6dFromMatrix(const Eigen::Matrix3d& r);
/// Gram-Schmidt on the two stored columns, third column by cross product. Degenerate input (zero or
/// parallel columns) falls back to the closest valid frame rather than producing NaN.
Eigen::Matrix3d MatrixFromRot6d(const Rot6d& r6);

QuatWxyz QuatFromRot6d(const Rot6d& r6);
Rot6d Rot6dFromQuat(const QuatWxyz& q);

/// Geodesic angle between two rotations, in radians, in [0, pi].
double RotationAngleBetween(const Eigen::Matrix3d& a, const Eigen::Matrix3d& b);

}  // namespace mivla::action

#endif  // MIVLA_CORE_ACTION_ROTATION_H_
