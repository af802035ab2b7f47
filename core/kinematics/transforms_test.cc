#include "core/kinematics/transforms.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace mivla::kinematics {
namespace {

Eigen::Matrix4d RotX4(double a) {
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  m(1, 1) = std::cos(a); m(1, 2) = -std::sin(a);
  m(2, 1) = std::sin(a); m(2, 2) = std::cos(a);
  return m;
}
Eigen::Matrix4d Trans4(double x, double y, double z) {
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  m(0, 3) = x; m(1, 3) = y; m(2, 3) = z;
  return m;
}

TEST(TransformsTest, ModifiedDhMatchesElementaryProduct) {
  for (double alpha : {0.0, M_PI / 2, -M_PI / 2, 0.3}) {
    const Eigen::Matrix4d expected = RotX4(alpha) * Trans4(0.2, 0, 0) * Trans4(0, 0, 0.15);
    EXPECT_TRUE(PoseFromModifiedDh(0.2, alpha, 0.15).matrix().isApprox(expected, 1e-12)) << alpha;
  }
}

TEST(TransformsTest, RpyIsZYXFixedAxes) {
  // rpy (0, 0, pi/2): x -> y.
  const Eigen::Vector3d v = RotationFromRpy({0, 0, M_PI / 2}) * Eigen::Vector3d::UnitX();
  EXPECT_NEAR(v.y(), 1.0, 1e-12);
  // roll applied first, then yaw: Rz(yaw) * Rx(roll) maps z -> Rz(yaw)(0,-sin r, cos r).
  const Eigen::Vector3d w = RotationFromRpy({M_PI / 2, 0, M_PI / 2}) * Eigen::Vector3d::UnitZ();
  EXPECT_TRUE(w.isApprox(Eigen::Vector3d(1, 0, 0), 1e-12)) << w.transpose();
}

TEST(TransformsTest, RotationErrorVectorIsAxisTimesAngle) {
  const Eigen::Matrix3d cur = RotationFromRpy({0.2, -0.4, 1.0});
  for (double angle : {1e-9, 0.01, 1.0, 3.0, M_PI - 1e-6}) {
    const Eigen::Vector3d axis = Eigen::Vector3d(1, 2, -0.5).normalized();
    const Eigen::Matrix3d target = Eigen::AngleAxisd(angle, axis).toRotationMatrix() * cur;
    const Eigen::Vector3d e = RotationErrorVector(target, cur);
    EXPECT_NEAR(e.norm(), angle, 1e-9);
    if (angle > 1e-6 && angle < 3.1) {
      EXPECT_TRUE(e.normalized().isApprox(axis, 1e-9));
    }
  }
  EXPECT_NEAR(RotationErrorVector(cur, cur).norm(), 0.0, 1e-15);
}

TEST(TransformsTest, PoseFromPositionQuatValidates) {
  auto ok = PoseFromPositionQuat({1, 2, 3}, {2.0, 0.0, 0.0, 0.0});  // normalised
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->linear().isApprox(Eigen::Matrix3d::Identity()));
  EXPECT_EQ(PoseFromPositionQuat({0, 0, 0}, {0, 0, 0, 0}).status().code(), absl::StatusCode::kInvalidArgument);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(PoseFromPositionQuat({nan, 0, 0}, {1, 0, 0, 0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PoseFromPositionQuat({0, 0, 0}, {1, nan, 0, 0}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TransformsTest, IsValidPoseRejectsScaleAndNan) {
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  EXPECT_TRUE(IsValidPose(t));
  t.linear() *= 1.1;
  EXPECT_FALSE(IsValidPose(t));
  t = Eigen::Isometry3d::Identity();
  t.translation().x() = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(IsValidPose(t));
}

}  // namespace
}  // namespace mivla::kinematics
