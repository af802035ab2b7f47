#include "core/action/rotation.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace mivla::action {
namespace {

Eigen::Matrix3d RandomRotation(std::mt19937& rng) {
  std::normal_distribution<double> n(0.0, 1.0);
  Eigen::Quaterniond q(n(rng), n(rng), n(rng), n(rng));
  q.normalize();
  return q.toRotationMatrix();
}

TEST(RotationTest, MatrixQuatMatrixRoundTrip) {
  std::mt19937 rng(1);
  for (int i = 0; i < 500; ++i) {
    Eigen::Matrix3d r = RandomRotation(rng);
    QuatWxyz q = QuatFromMatrix(r);
    EXPECT_GE(q[0], 0.0);
    EXPECT_NEAR(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3], 1.0, 1e-12);
    EXPECT_LT((MatrixFromQuat(q) - r).norm(), 1e-10);
  }
}

TEST(RotationTest, Matrix6dMatrixRoundTrip) {
  std::mt19937 rng(2);
  for (int i = 0; i < 500; ++i) {
    Eigen::Matrix3d r = RandomRotation(rng);
    Rot6d r6 = Rot6dFromMatrix(r);
    EXPECT_DOUBLE_EQ(r6[0], r(0, 0));
    EXPECT_DOUBLE_EQ(r6[3], r(0, 1));
    EXPECT_LT((MatrixFromRot6d(r6) - r).norm(), 1e-10);
    QuatWxyz q = QuatFromRot6d(r6);
    Rot6d back = Rot6dFromQuat(q);
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(back[k], r6[k], 1e-10);
  }
}

TEST(RotationTest, NoisySixDIsReorthonormalised) {
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 0.05);
  for (int i = 0; i < 200; ++i) {
    Eigen::Matrix3d r = RandomRotation(rng);
    Rot6d r6 = Rot6dFromMatrix(r);
    for (double& v : r6) v += noise(rng);
    Eigen::Matrix3d m = MatrixFromRot6d(r6);
    EXPECT_LT((m.transpose() * m - Eigen::Matrix3d::Identity()).norm(), 1e-12);
    EXPECT_NEAR(m.determinant(), 1.0, 1e-12);
    EXPECT_LT(RotationAngleBetween(m, r), 0.3);
  }
}

TEST(RotationTest, OrthonormalizeProjectsScaledAndReflectedInput) {
  std::mt19937 rng(4);
  Eigen::Matrix3d r = RandomRotation(rng);
  EXPECT_LT((Orthonormalize(2.5 * r) - r).norm(), 1e-10);
  Eigen::Matrix3d m = Orthonormalize(-r);  // det -1 input still yields a proper rotation
  EXPECT_NEAR(m.determinant(), 1.0, 1e-12);
}

TEST(RotationTest, DegenerateInputsNeverGiveNaN) {
  EXPECT_TRUE(MatrixFromRot6d({0, 0, 0, 0, 0, 0}).isApprox(Eigen::Matrix3d::Identity()));
  Eigen::Matrix3d parallel = MatrixFromRot6d({1, 0, 0, 2, 0, 0});
  EXPECT_TRUE(parallel.allFinite());
  EXPECT_NEAR(parallel.determinant(), 1.0, 1e-12);
  Eigen::Matrix3d nan = MatrixFromRot6d({NAN, 0, 0, 0, 1, 0});
  EXPECT_TRUE(nan.allFinite());
  QuatWxyz q = CanonicalQuat({0, 0, 0, 0});
  EXPECT_EQ(q[0], 1.0);
  QuatWxyz neg = CanonicalQuat({-2, 0, 0, 0});
  EXPECT_EQ(neg[0], 1.0);
}

TEST(RotationTest, AngleBetweenKnownRotation) {
  Eigen::Matrix3d a = Eigen::AngleAxisd(0.7, Eigen::Vector3d::UnitZ()).toRotationMatrix();
  EXPECT_NEAR(RotationAngleBetween(Eigen::Matrix3d::Identity(), a), 0.7, 1e-12);
  Eigen::Matrix3d tiny = Eigen::AngleAxisd(1e-9, Eigen::Vector3d::UnitX()).toRotationMatrix();
  EXPECT_NEAR(RotationAngleBetween(Eigen::Matrix3d::Identity(), tiny), 1e-9, 1e-15);
}

}  // namespace
}  // namespace mivla::action
