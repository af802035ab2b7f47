#include "core/action/rotation.h"

#include <algorithm>
#include <cmath>

#include "Eigen/SVD"

namespace mivla::action {

Eigen::Matrix3d Orthonormalize(const Eigen::Matrix3d& m) {
  if (!m.allFinite()) return Eigen::Matrix3d::Identity();
  Eigen::JacobiSVD<Eigen::Matrix3d> svd(m, Eigen::ComputeFullU | Eigen::ComputeFullV);
  Eigen::Matrix3d u = svd.matrixU();
  const Eigen::Matrix3d v = svd.matrixV();
  if ((u * v.transpose()).determinant() < 0) u.col(2) *= -1.0;
  return u * v.transpose();
}

QuatWxyz CanonicalQuat(const QuatWxyz& q) {
  double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  if (!std::isfinite(n) || n < 1e-12) return {1.0, 0.0, 0.0, 0.0};
  double s = q[0] < 0 ? -1.0 / n : 1.0 / n;
  return {q[0] * s, q[1] * s, q[2] * s, q[3] * s};
}

QuatWxyz QuatFromMatrix(const Eigen::Matrix3d& r) {
  Eigen::Quaterniond q(Orthonormalize(r));
  return CanonicalQuat({q.w(), q.x(), q.y(), q.z()});
}

Eigen::Matrix3d MatrixFromQuat(const QuatWxyz& q) {
  QuatWxyz c = CanonicalQuat(q);
  return Eigen::Quaterniond(c[0], c[1], c[2], c[3]).toRotationMatrix();
}

Rot6d Rot6dFromMatrix(const Eigen::Matrix3d& r) {
  return {r(0, 0), r(1, 0), r(2, 0), r(0, 1), r(1, 1), r(2, 1)};
}

Eigen::Matrix3d MatrixFromRot6d(const Rot6d& r6) {
  Eigen::Vector3d a(r6[0], r6[1], r6[2]);
  Eigen::Vector3d b(r6[3], r6[4], r6[5]);
  if (!a.allFinite() || !b.allFinite()) return Eigen::Matrix3d::Identity();
  if (a.norm() < 1e-9) {
    // No first column: build any frame whose second column is b.
    if (b.norm() < 1e-9) return Eigen::Matrix3d::Identity();
    Eigen::Vector3d y = b.normalized();
    Eigen::Vector3d helper = std::abs(y.x()) < 0.9 ? Eigen::Vector3d::UnitX() : Eigen::Vector3d::UnitZ();
    a = helper - helper.dot(y) * y;
  }
  Eigen::Vector3d x = a.normalized();
  Eigen::Vector3d y = b - x.dot(b) * x;
  if (y.norm() < 1e-9) {
    Eigen::Vector3d helper = std::abs(x.y()) < 0.9 ? Eigen::Vector3d::UnitY() : Eigen::Vector3d::UnitZ();
    y = helper - helper.dot(x) * x;
  }
  y.normalize();
  Eigen::Matrix3d r;
  r.col(0) = x;
  r.col(1) = y;
  r.col(2) = x.cross(y);
  return r;
}

QuatWxyz QuatFromRot6d(const Rot6d& r6) { return QuatFromMatrix(MatrixFromRot6d(r6)); }

Rot6d Rot6dFromQuat(const QuatWxyz& q) { return Rot6dFromMatrix(MatrixFromQuat(q)); }

double RotationAngleBetween(const Eigen::Matrix3d& a, const Eigen::Matrix3d& b) {
  Eigen::Matrix3d d = a.transpose() * b;
  double c = std::clamp((d.trace() - 1.0) / 2.0, -1.0, 1.0);
  // acos loses precision near 0; use the skew part there.
  Eigen::Vector3d w(d(2, 1) - d(1, 2), d(0, 2) - d(2, 0), d(1, 0) - d(0, 1));
  return std::atan2(0.5 * w.norm(), c);
}

}  // namespace mivla::action
