#include "core/kinematics/transforms.h"

#include <cmath>

#include "absl/status/status.h"

namespace mivla::kinematics {

Eigen::Matrix3d RotationFromRpy(const Eigen::Vector3d& rpy) {
  return (Eigen::AngleAxisd(rpy.z(), Eigen::Vector3d::UnitZ()) *
          Eigen::AngleAxisd(rpy.y(), Eigen::Vector3d::UnitY()) *
          Eigen::AngleAxisd(rpy.x(), Eigen::Vector3d::UnitX()))
      .toRotationMatrix();
}

Eigen::Isometry3d PoseFromXyzRpy(const Eigen::Vector3d& xyz, const Eigen::Vector3d& rpy) {
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.linear() = RotationFromRpy(rpy);
  t.translation() = xyz;
  return t;
}

Eigen::Isometry3d PoseFromModifiedDh(double a, double alpha, double d) {
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.linear() = Eigen::AngleAxisd(alpha, Eigen::Vector3d::UnitX()).toRotationMatrix();
  // RotX(alpha) * TransX(a) * TransZ(d): a is along the old x axis (unchanged by RotX), d along the
  // rotated z axis.
  t.translation() = Eigen::Vector3d(a, 0.0, 0.0) + t.linear() * Eigen::Vector3d(0.0, 0.0, d);
  return t;
}

Eigen::Vector3d RotationErrorVector(const Eigen::Matrix3d& target, const Eigen::Matrix3d& current) {
  const Eigen::Matrix3d r = target * current.transpose();
  // Log map via the quaternion: stable near 0 and near pi.
  Eigen::Quaterniond q(r);
  if (q.w() < 0) q.coeffs() *= -1.0;
  const Eigen::Vector3d v = q.vec();
  const double s = v.norm();
  if (s < 1e-12) return 2.0 * v;  // small-angle limit of angle * axis
  const double angle = 2.0 * std::atan2(s, q.w());
  return v * (angle / s);
}

PoseDistance DistanceBetween(const Eigen::Isometry3d& a, const Eigen::Isometry3d& b) {
  return {(a.translation() - b.translation()).norm(),
          RotationErrorVector(a.linear(), b.linear()).norm()};
}

absl::StatusOr<Eigen::Isometry3d> PoseFromPositionQuat(const Eigen::Vector3d& position,
                                                      const action::QuatWxyz& q) {
  if (!position.allFinite()) return absl::InvalidArgumentError("pose position is not finite");
  for (double v : q) {
    if (!std::isfinite(v)) return absl::InvalidArgumentError("pose quaternion is not finite");
  }
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  if (n < 1e-6) return absl::InvalidArgumentError("pose quaternion has zero length");
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.linear() = Eigen::Quaterniond(q[0] / n, q[1] / n, q[2] / n, q[3] / n).toRotationMatrix();
  t.translation() = position;
  return t;
}

bool IsValidPose(const Eigen::Isometry3d& pose, double tol) {
  if (!pose.matrix().allFinite()) return false;
  const Eigen::Matrix3d r = pose.linear();
  return (r.transpose() * r - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff() < tol &&
         std::abs(r.determinant() - 1.0) < tol;
}

}  // namespace mivla::kinematics
