// File: kinematic_chain.h
// A serial chain of revolute/prismatic joints: base (mounting) transform, per-joint fixed origin +
// motion axis + offset, and a tool transform. Covers both URDF joints (origin xyz/rpy, axis) and
// modified-DH links (origin RotX(alpha)*Trans(a,0,d), axis +z, theta offset). Forward kinematics and
// the geometric Jacobian in the chain's base frame.
//
//   KinematicChain::Options o;
//   o.joints.push_back({.name = "j1", .origin = PoseFromXyzRpy({0, 0, 0.1}, {0, 0, 0}), ...});
//   ASSIGN_OR_RETURN(KinematicChain chain, KinematicChain::Create(std::move(o)));
//   ASSIGN_OR_RETURN(Eigen::Isometry3d ee, chain.Forward(q));
//
// Immutable after Create; every method is const and thread-safe. No heap allocation in Forward or
// ForwardWithJacobian (joint vectors have a fixed maximum size).
#ifndef MIVLA_CORE_KINEMATICS_KINEMATIC_CHAIN_H_
#define MIVLA_CORE_KINEMATICS_KINEMATIC_CHAIN_H_

#include <string>
#include <vector>

#include "Eigen/Core"
#include "Eigen/Geometry"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mivla::kinematics {

inline constexpr int kMaxJoints = 8;
/// Joint values (rad or m); heap-free, at most kMaxJoints entries.
using JointVector = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, kMaxJoints, 1>;
/// Geometric Jacobian: rows 0-2 linear velocity, rows 3-5 angular velocity, base frame.
using Jacobian = Eigen::Matrix<double, 6, Eigen::Dynamic, 0, 6, kMaxJoints>;

enum class JointType { kRevolute, kPrismatic };

struct JointSpec {
  std::string name;
  JointType type = JointType::kRevolute;
  /// Parent frame -> this joint's frame when the joint is at zero motion.
  Eigen::Isometry3d origin = Eigen::Isometry3d::Identity();
  /// Motion axis in this joint's frame (normalised by Create).
  Eigen::Vector3d axis = Eigen::Vector3d::UnitZ();
  /// Added to the joint value before the motion (DH theta offsets); limits apply to the value itself.
  double offset = 0.0;
  double lower = 0.0;
  double upper = 0.0;
  /// rad/s or m/s; 0 means not specified.
  double max_velocity = 0.0;
};

class KinematicChain {
 public:
  struct Options {
    std::string name;
    /// Embodiment frame -> first joint's parent frame (the arm's mounting pose).
    Eigen::Isometry3d base = Eigen::Isometry3d::Identity();
    std::vector<JointSpec> joints;
    /// Last joint's frame -> end-effector frame.
    Eigen::Isometry3d tool = Eigen::Isometry3d::Identity();
  };

  /// Validates: 1..kMaxJoints joints, finite transforms with proper rotations, non-zero axes,
  /// lower <= upper, non-negative velocity limits.
  static absl::StatusOr<KinematicChain> Create(Options options);

  KinematicChain() = default;  // empty chain; only useful as a placeholder

  const std::string& name() const { return name_; }
  int num_joints() const { return static_cast<int>(joints_.size()); }
  const std::vector<JointSpec>& joints() const { return joints_; }
  const Eigen::Isometry3d& base() const { return base_; }
  const Eigen::Isometry3d& tool() const { return tool_; }
  const JointVector& lower() const { return lower_; }
  const JointVector& upper() const { return upper_; }

  /// InvalidArgument when `q` has the wrong size or a non-finite entry (limits are not checked here).
  absl::Status CheckJoints(const JointVector& q) const;
  /// End-effector pose in the embodiment frame; validates `q` with CheckJoints.
  absl::StatusOr<Eigen::Isometry3d> Forward(const JointVector& q) const;
  /// Unvalidated fast path: `q` must have num_joints() finite entries.
  Eigen::Isometry3d ForwardUnchecked(const JointVector& q) const;
  /// Pose and geometric Jacobian at `q` (unvalidated, as ForwardUnchecked).
  void ForwardWithJacobian(const JointVector& q, Eigen::Isometry3d* pose, Jacobian* jacobian) const;

  bool WithinLimits(const JointVector& q, double tolerance = 1e-9) const;
  JointVector Clamp(const JointVector& q) const;

 private:
  std::string name_;
  Eigen::Isometry3d base_ = Eigen::Isometry3d::Identity();
  Eigen::Isometry3d tool_ = Eigen::Isometry3d::Identity();
  std::vector<JointSpec> joints_;
  JointVector lower_;
  JointVector upper_;
};

}  // namespace mivla::kinematics

#endif  // MIVLA_CORE_KINEMATICS_KINEMATIC_CHAIN_H_
