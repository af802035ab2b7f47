// File: mjcf_util.cc
#include "sim/mjcf_util.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mivla::sim {

std::string Num(double v) {
  if (std::abs(v) < 1e-12) v = 0.0;
  return absl::StrFormat("%.6g", v);
}

std::string Vec(const Eigen::Vector3d& v) { return absl::StrCat(Num(v.x()), " ", Num(v.y()), " ", Num(v.z())); }

std::string Rgba(const Eigen::Vector4d& c) {
  return absl::StrCat(Num(c[0]), " ", Num(c[1]), " ", Num(c[2]), " ", Num(c[3]));
}

std::string Quat(const Eigen::Matrix3d& r) {
  Eigen::Quaterniond q(r);
  q.normalize();
  if (q.w() < 0) q.coeffs() *= -1.0;
  return absl::StrCat(Num(q.w()), " ", Num(q.x()), " ", Num(q.y()), " ", Num(q.z()));
}

std::string PoseAttr(const Eigen::Isometry3d& pose) {
  return absl::StrCat(" pos=\"", Vec(pose.translation()), "\" quat=\"", Quat(pose.rotation()), "\"");
}

Eigen::Matrix3d LookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& target, double roll_rad) {
  const Eigen::Vector3d forward = (target - eye).normalized();
  Eigen::Vector3d right = forward.cross(Eigen::Vector3d::UnitZ());
  if (right.norm() < 1e-6) right = Eigen::Vector3d::UnitY();
  right.normalize();
  const Eigen::Vector3d up = right.cross(forward);
  Eigen::Matrix3d r;
  r.col(0) = right;
  r.col(1) = up;
  r.col(2) = -forward;
  return r * AxisAngle(Eigen::Vector3d::UnitZ(), roll_rad);
}

Eigen::Matrix3d AxisAngle(const Eigen::Vector3d& axis, double angle) {
  return Eigen::AngleAxisd(angle, axis.normalized()).toRotationMatrix();
}

Eigen::Matrix3d TopDownFrame(double yaw) {
  Eigen::Matrix3d r;
  const Eigen::Vector3d y(std::cos(yaw), std::sin(yaw), 0.0);
  const Eigen::Vector3d z(0, 0, -1);
  r.col(1) = y;
  r.col(2) = z;
  r.col(0) = y.cross(z);
  return r;
}

}  // namespace mivla::sim
