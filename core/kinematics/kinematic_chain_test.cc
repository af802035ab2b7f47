// FK of every embodiment checked against transforms computed here independently from the published
// parameters (typed in below, not read from the data files): PiPER by multiplying the four elementary
// modified-DH matrices, ARX-5 and LocoMan by chaining URDF origins with hand-written rotation matrices,
// plus closed-form configurations worked out by hand.
#include "core/kinematics/kinematic_chain.h"

#include <cmath>
#include <limits>
#include <random>

#include "core/kinematics/embodiment_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::kinematics {
namespace {

using M4 = Eigen::Matrix4d;
constexpr double kPi = 3.14159265358979323846;

M4 Rx(double a) { M4 m = M4::Identity(); m(1,1) = std::cos(a); m(1,2) = -std::sin(a); m(2,1) = std::sin(a); m(2,2) = std::cos(a); return m; }
M4 Ry(double a) { M4 m = M4::Identity(); m(0,0) = std::cos(a); m(0,2) = std::sin(a); m(2,0) = -std::sin(a); m(2,2) = std::cos(a); return m; }
M4 Rz(double a) { M4 m = M4::Identity(); m(0,0) = std::cos(a); m(0,1) = -std::sin(a); m(1,0) = std::sin(a); m(1,1) = std::cos(a); return m; }
M4 Tr(double x, double y, double z) { M4 m = M4::Identity(); m(0,3) = x; m(1,3) = y; m(2,3) = z; return m; }
M4 Urdf(double x, double y, double z, double r, double p, double yw) { return Tr(x, y, z) * Rz(yw) * Ry(p) * Rx(r); }

// PiPER, piper_sdk piper_fk.py: modified DH in mm and degrees, firmware >= S-V1.6-3 offsets.
M4 PiperFk(const JointVector& q) {
  const double a[6] = {0, 0, 285.03, -21.98, 0, 0};
  const double alpha[6] = {0, -90, 0, 90, -90, 90};
  const double d[6] = {123, 0, 0, 250.75, 0, 91};
  const double off[6] = {0, -172.22, -102.78, 0, 0, 0};
  M4 t = M4::Identity();
  for (int i = 0; i < 6; ++i) {
    t = t * Rx(alpha[i] * kPi / 180) * Tr(a[i] / 1000, 0, 0) * Rz(q[i] + off[i] * kPi / 180) * Tr(0, 0, d[i] / 1000);
  }
  return t;
}

// ARX X5, arx5-sdk models/X5.urdf.
M4 Arx5Fk(const JointVector& q) {
  return Urdf(0, 0, 0.0603, 0, 0, 0) * Rz(q[0]) * Urdf(0.02, 0, 0.0402, 0, 0, 0) * Ry(q[1]) *
         Urdf(-0.264, 0, 0, -3.1416, 0, 0) * Ry(q[2]) * Urdf(0.245, 0, -0.056, 0, 0, 0) * Ry(q[3]) *
         Urdf(0.06575, -0.001, -0.0825, 0, 0, 0) * Rz(q[4]) * Urdf(0.02845, 0, 0.0825, -3.1416, 0, 0) * Rx(q[5]) *
         Tr(0.145, 0, 0);
}

// LocoMan locoman.urdf, front-right (s = -1) or front-left (s = +1) leg + manipulator.
M4 LocomanFk(const JointVector& q, double s) {
  return Tr(0.1881, s * 0.04675, 0) * Rx(q[0]) * Tr(0, s * 0.08, 0) * Ry(q[1]) * Tr(0, 0, -0.213) * Ry(q[2]) *
         Tr(0.017662, s * 0.033, -0.182) * Ry(q[3]) * Tr(0, 0, -0.0531) * Rx(q[4]) * Tr(0, 0, -0.086) * Rz(q[5]);
}

JointVector RandomInLimits(const KinematicChain& c, std::mt19937* rng) {
  std::uniform_real_distribution<double> u(0, 1);
  JointVector q(c.num_joints());
  for (int i = 0; i < q.size(); ++i) q[i] = c.lower()[i] + u(*rng) * (c.upper()[i] - c.lower()[i]);
  return q;
}

void ExpectPoseNear(const Eigen::Isometry3d& got, const M4& want, double tol) {
  EXPECT_TRUE(got.matrix().isApprox(want, tol)) << "got\n" << got.matrix() << "\nwant\n" << want;
  EXPECT_LT((got.translation() - want.block<3, 1>(0, 3)).norm(), tol);
}

EmbodimentDescription Load(action::Embodiment e) {
  auto d = LoadEmbodiment(e);
  EXPECT_TRUE(d.ok()) << d.status();
  return *d;
}

TEST(KinematicChainTest, PiperMatchesDhTable) {
  const EmbodimentDescription piper = Load(action::Embodiment::kPiper);
  const KinematicChain& c = piper.arms[0].chain;
  std::mt19937 rng(1);
  for (int k = 0; k < 50; ++k) {
    const JointVector q = RandomInLimits(c, &rng);
    ExpectPoseNear(c.ForwardUnchecked(q), PiperFk(q), 1e-9);
  }
  JointVector zero = JointVector::Zero(6);
  ExpectPoseNear(c.ForwardUnchecked(zero), PiperFk(zero), 1e-9);
}

TEST(KinematicChainTest, PiperClosedForm) {
  // With theta2 = theta3 = 0 (q2 = 172.22 deg, q3 = 102.78 deg) and the other joints at 0, worked by
  // hand: frame 2 keeps x along base x and has z2 = base +y, y2 = base -z (alpha2 = -90 deg); a3 and a4
  // run along base x; alpha4 = +90 deg makes z4 = -y3 = base +z, so d4 rises straight up; alpha5 = -90
  // and alpha6 = +90 give z6 = -y5 = z4, so d6 rises too. Flange at (a3 + a4, 0, d1 + d4 + d6).
  const EmbodimentDescription piper = Load(action::Embodiment::kPiper);
  JointVector q(6);
  q << 0, 172.22 * kPi / 180, 102.78 * kPi / 180, 0, 0, 0;
  const Eigen::Isometry3d t = piper.arms[0].chain.ForwardUnchecked(q);
  EXPECT_NEAR(t.translation().x(), 0.28503 - 0.02198, 1e-9);
  EXPECT_NEAR(t.translation().y(), 0.0, 1e-9);
  EXPECT_NEAR(t.translation().z(), 0.123 + 0.25075 + 0.091, 1e-9);
}

TEST(KinematicChainTest, Arx5MatchesUrdf) {
  const EmbodimentDescription arx = Load(action::Embodiment::kArx5);
  const KinematicChain& c = arx.arms[0].chain;
  std::mt19937 rng(2);
  for (int k = 0; k < 50; ++k) {
    const JointVector q = RandomInLimits(c, &rng);
    ExpectPoseNear(c.ForwardUnchecked(q), Arx5Fk(q), 1e-9);
  }
  // Hand-summed at q = 0 (the two Rx(-3.1416) flips cancel): x = 0.02 - 0.264 + 0.245 + 0.06575 +
  // 0.02845 + 0.145, z = 0.0603 + 0.0402 + 0.056 + 0.0825 - 0.0825, y = 0.001 (flipped -0.001).
  const Eigen::Isometry3d t = c.ForwardUnchecked(JointVector::Zero(6));
  EXPECT_NEAR(t.translation().x(), 0.24020, 1e-4);
  EXPECT_NEAR(t.translation().y(), 0.001, 1e-4);
  EXPECT_NEAR(t.translation().z(), 0.1565, 1e-4);
  EXPECT_TRUE(t.linear().isApprox(Eigen::Matrix3d::Identity(), 1e-4));
}

TEST(KinematicChainTest, LocomanMatchesUrdfBothArms) {
  const EmbodimentDescription loco = Load(action::Embodiment::kLocoman);
  std::mt19937 rng(3);
  for (Side side : {Side::kRight, Side::kLeft}) {
    const KinematicChain& c = loco.FindArm(side)->chain;
    const double s = side == Side::kRight ? -1.0 : 1.0;
    for (int k = 0; k < 50; ++k) {
      const JointVector q = RandomInLimits(c, &rng);
      ExpectPoseNear(c.ForwardUnchecked(q), LocomanFk(q, s), 1e-9);
    }
  }
  // Closed forms for the front-right arm: all zero, and thigh = pi/2 (leg swung forward, horizontal).
  const KinematicChain& fr = loco.FindArm(Side::kRight)->chain;
  Eigen::Isometry3d t = fr.ForwardUnchecked(JointVector::Zero(6));
  EXPECT_TRUE(t.translation().isApprox(Eigen::Vector3d(0.205762, -0.15975, -0.5341), 1e-9));
  JointVector q = JointVector::Zero(6);
  q[1] = kPi / 2;
  t = fr.ForwardUnchecked(q);
  EXPECT_TRUE(t.translation().isApprox(Eigen::Vector3d(0.1881 - 0.5341, -0.15975, -0.017662), 1e-9))
      << t.translation().transpose();
  EXPECT_TRUE(t.linear().isApprox(Ry(kPi / 2).topLeftCorner<3, 3>(), 1e-12));
}

TEST(KinematicChainTest, AlohaArmsArePipersOnTheirMounts) {
  const EmbodimentDescription aloha = Load(action::Embodiment::kAlohaAgilex);
  std::mt19937 rng(4);
  const KinematicChain& left = aloha.FindArm(Side::kLeft)->chain;
  const KinematicChain& right = aloha.FindArm(Side::kRight)->chain;
  for (int k = 0; k < 20; ++k) {
    const JointVector q = RandomInLimits(left, &rng);
    ExpectPoseNear(left.ForwardUnchecked(q), Tr(0.2305, 0.297, 0.782) * PiperFk(q), 1e-9);
    ExpectPoseNear(right.ForwardUnchecked(q), Tr(0.2315, -0.3063, 0.781) * PiperFk(q), 1e-9);
  }
}

TEST(KinematicChainTest, JacobianMatchesFiniteDifferences) {
  for (auto e : {action::Embodiment::kPiper, action::Embodiment::kArx5, action::Embodiment::kLocoman}) {
    const KinematicChain& c = Load(e).arms[0].chain;
    std::mt19937 rng(5);
    const JointVector q = RandomInLimits(c, &rng);
    Eigen::Isometry3d pose;
    Jacobian j;
    c.ForwardWithJacobian(q, &pose, &j);
    EXPECT_TRUE(pose.isApprox(c.ForwardUnchecked(q), 1e-12));
    const double h = 1e-6;
    for (int i = 0; i < c.num_joints(); ++i) {
      JointVector qp = q, qm = q;
      qp[i] += h;
      qm[i] -= h;
      const Eigen::Isometry3d tp = c.ForwardUnchecked(qp), tm = c.ForwardUnchecked(qm);
      const Eigen::Vector3d v = (tp.translation() - tm.translation()) / (2 * h);
      const Eigen::Matrix3d dr = (tp.linear() - tm.linear()) / (2 * h) * pose.linear().transpose();
      const Eigen::Vector3d w(dr(2, 1), dr(0, 2), dr(1, 0));
      EXPECT_LT((v - j.col(i).head<3>()).norm(), 1e-6) << "joint " << i;
      EXPECT_LT((w - j.col(i).tail<3>()).norm(), 1e-6) << "joint " << i;
    }
  }
}

TEST(KinematicChainTest, ForwardRejectsBadJoints) {
  const KinematicChain& c = Load(action::Embodiment::kPiper).arms[0].chain;
  JointVector q = JointVector::Zero(6);
  q[2] = std::numeric_limits<double>::quiet_NaN();
  auto r = c.Forward(q);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), testing::HasSubstr("joint 2"));
  EXPECT_EQ(c.Forward(JointVector::Zero(5)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KinematicChainTest, CreateValidates) {
  KinematicChain::Options o;
  o.name = "bad";
  EXPECT_FALSE(KinematicChain::Create(o).ok());  // no joints
  JointSpec j;
  j.lower = 1.0;
  j.upper = -1.0;
  o.joints.push_back(j);
  EXPECT_FALSE(KinematicChain::Create(o).ok());  // lower > upper
  o.joints[0].lower = -1.0;
  o.joints[0].upper = 1.0;
  o.joints[0].axis = Eigen::Vector3d::Zero();
  EXPECT_FALSE(KinematicChain::Create(o).ok());  // zero axis
  o.joints[0].axis = Eigen::Vector3d(0, 0, 2);
  auto c = KinematicChain::Create(o);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->joints()[0].axis.norm(), 1.0, 1e-15);
  JointVector q(1);
  q << 5.0;
  EXPECT_FALSE(c->WithinLimits(q));
  EXPECT_DOUBLE_EQ(c->Clamp(q)[0], 1.0);
}

}  // namespace
}  // namespace mivla::kinematics
