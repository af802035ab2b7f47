#include "core/kinematics/kinematic_chain.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/kinematics/transforms.h"

namespace mivla::kinematics {
namespace {

// Motion of one joint: rotation about (or translation along) its unit axis.
Eigen::Isometry3d JointMotion(const JointSpec& j, double q) {
  Eigen::Isometry3d m = Eigen::Isometry3d::Identity();
  const double v = q + j.offset;
  if (j.type == JointType::kRevolute) {
    m.linear() = Eigen::AngleAxisd(v, j.axis).toRotationMatrix();
  } else {
    m.translation() = j.axis * v;
  }
  return m;
}

}  // namespace

absl::StatusOr<KinematicChain> KinematicChain::Create(Options options) {
  const std::string& n = options.name;
  if (options.joints.empty() || static_cast<int>(options.joints.size()) > kMaxJoints) {
    return absl::InvalidArgumentError(absl::StrCat("chain '", n, "': needs 1 to ", kMaxJoints,
                                                   " joints, got ", options.joints.size()));
  }
  if (!IsValidPose(options.base) || !IsValidPose(options.tool)) {
    return absl::InvalidArgumentError(absl::StrCat("chain '", n, "': base or tool transform is not a rigid transform"));
  }
  KinematicChain c;
  c.name_ = n;
  c.base_ = options.base;
  c.tool_ = options.tool;
  c.lower_.resize(static_cast<int>(options.joints.size()));
  c.upper_.resize(static_cast<int>(options.joints.size()));
  for (size_t i = 0; i < options.joints.size(); ++i) {
    JointSpec& j = options.joints[i];
    const std::string where = absl::StrCat("chain '", n, "' joint ", i, " ('", j.name, "')");
    if (!IsValidPose(j.origin)) return absl::InvalidArgumentError(absl::StrCat(where, ": origin is not a rigid transform"));
    if (!j.axis.allFinite() || j.axis.norm() < 1e-9) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": axis is zero or not finite"));
    }
    j.axis.normalize();
    if (!std::isfinite(j.offset) || !std::isfinite(j.lower) || !std::isfinite(j.upper) || j.lower > j.upper) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": limits must be finite with lower <= upper, got [",
                                                     j.lower, ", ", j.upper, "]"));
    }
    if (!std::isfinite(j.max_velocity) || j.max_velocity < 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": velocity limit must be finite and >= 0"));
    }
    c.lower_[static_cast<int>(i)] = j.lower;
    c.upper_[static_cast<int>(i)] = j.upper;
  }
  c.joints_ = std::move(options.joints);
  return c;
}

absl::Status KinematicChain::CheckJoints(const JointVector& q) const {
  if (q.size() != num_joints()) {
    return absl::InvalidArgumentError(absl::StrCat("chain '", name_, "' expects ", num_joints(),
                                                   " joint values, got ", q.size()));
  }
  for (int i = 0; i < q.size(); ++i) {
    if (!std::isfinite(q[i])) {
      return absl::InvalidArgumentError(absl::StrCat("chain '", name_, "': joint ", i, " ('",
                                                     joints_[i].name, "') is not finite"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Eigen::Isometry3d> KinematicChain::Forward(const JointVector& q) const {
  absl::Status s = CheckJoints(q);
  if (!s.ok()) return s;
  return ForwardUnchecked(q);
}

Eigen::Isometry3d KinematicChain::ForwardUnchecked(const JointVector& q) const {
  Eigen::Isometry3d t = base_;
  for (int i = 0; i < num_joints(); ++i) t = t * joints_[i].origin * JointMotion(joints_[i], q[i]);
  return t * tool_;
}

void KinematicChain::ForwardWithJacobian(const JointVector& q, Eigen::Isometry3d* pose,
                                         Jacobian* jacobian) const {
  const int n = num_joints();
  Eigen::Matrix<double, 3, Eigen::Dynamic, 0, 3, kMaxJoints> axes(3, n), points(3, n);
  Eigen::Isometry3d t = base_;
  for (int i = 0; i < n; ++i) {
    t = t * joints_[i].origin;
    axes.col(i) = t.linear() * joints_[i].axis;
    points.col(i) = t.translation();
    t = t * JointMotion(joints_[i], q[i]);
  }
  t = t * tool_;
  *pose = t;
  jacobian->resize(6, n);
  const Eigen::Vector3d p = t.translation();
  for (int i = 0; i < n; ++i) {
    const Eigen::Vector3d z = axes.col(i);
    if (joints_[i].type == JointType::kRevolute) {
      jacobian->col(i).head<3>() = z.cross(p - points.col(i));
      jacobian->col(i).tail<3>() = z;
    } else {
      jacobian->col(i).head<3>() = z;
      jacobian->col(i).tail<3>().setZero();
    }
  }
}

bool KinematicChain::WithinLimits(const JointVector& q, double tolerance) const {
  if (q.size() != num_joints()) return false;
  for (int i = 0; i < q.size(); ++i) {
    if (!(q[i] >= lower_[i] - tolerance && q[i] <= upper_[i] + tolerance)) return false;
  }
  return true;
}

JointVector KinematicChain::Clamp(const JointVector& q) const {
  JointVector c = q;
  for (int i = 0; i < q.size() && i < num_joints(); ++i) c[i] = std::clamp(q[i], lower_[i], upper_[i]);
  return c;
}

}  // namespace mivla::kinematics
