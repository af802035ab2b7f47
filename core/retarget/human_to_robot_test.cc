#include "core/retarget/human_to_robot.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/kinematics/transforms.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::retarget {
namespace {

using kinematics::EmbodimentDescription;
using kinematics::JointVector;
using kinematics::SagittalMirror;

EmbodimentDescription Robot(action::Embodiment e) {
  auto d = kinematics::LoadEmbodiment(e);
  EXPECT_TRUE(d.ok()) << d.status();
  return *d;
}
kinematics::HandDescription Hand() { return *kinematics::LoadHandDescription(); }
HandPrior Prior() { return *HandPrior::Create(Hand()); }

// The robots' human -> base rotation (ARKit x right, y up, z toward the user -> base x forward, y left, z up).
Eigen::Matrix3d C() { return Robot(action::Embodiment::kPiper).arms[0].retarget.human_to_base; }

// A right hand (wrist pose in the ARKit world) with the given opening.
HandPose RightHand(const Eigen::Isometry3d& wrist, double opening) { return Prior().HandAt(wrist, Side::kRight, opening); }

// The mirror image (through the user's sagittal plane, ARKit x = 0) of a right hand: a left hand.
HandPose MirrorToLeft(const HandPose& r) {
  const Eigen::Matrix3d m = C().transpose() * SagittalMirror() * C();
  HandPose l;
  l.wrist.linear() = m * r.wrist.linear() * Eigen::Vector3d(-1, 1, 1).asDiagonal();
  l.wrist.translation() = m * r.wrist.translation();
  for (int f = 0; f < 5; ++f) l.tips[f] = m * r.tips[f];
  return l;
}

// A wrist pose written in robot-aligned axes (x forward, y left, z up), expressed in the ARKit world
// (p_arkit = C^T p): the data path never gives a robot-aligned human world.
Eigen::Isometry3d Wrist(double x, double y, double z, double roll, double pitch, double yaw) {
  Eigen::Isometry3d to_arkit = Eigen::Isometry3d::Identity();
  to_arkit.linear() = C().transpose();
  return to_arkit * kinematics::PoseFromXyzRpy({x, y, z}, {roll, pitch, yaw});
}

TEST(HumanToRobotTest, Equation2OnPoses) {
  HumanToRobotMapper::Options o;
  o.mapping.position_scale = 2.0;
  o.mapping.reference = ReferencePoint::kWrist;
  auto m = HumanToRobotMapper::Create(Robot(action::Embodiment::kPiper), Hand(), o);
  ASSERT_TRUE(m.ok()) << m.status();
  HumanHands start;
  const Eigen::Isometry3d w0 = Wrist(0.3, -0.2, 1.0, 0.1, 0.2, -0.3);
  start.Set(Side::kRight, RightHand(w0, 0.5));
  ASSERT_TRUE(m->Reset(start).ok());
  const Eigen::Isometry3d e0 = m->embodiment().arms[0].chain.ForwardUnchecked(m->embodiment().arms[0].home);
  // No motion: the target is E_0.
  auto t = m->TargetPose(0, start.at(Side::kRight));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->isApprox(e0, 1e-12));
  // Translation by d (ARKit world) moves the end effector by s * C d; a rotation R about the ARKit world
  // applies as C R C^T R(E_0). C is not symmetric, so C^T in place of C fails both checks.
  ASSERT_FALSE(C().isApprox(C().transpose(), 1e-6));
  const Eigen::Matrix3d r = Eigen::AngleAxisd(0.3, Eigen::Vector3d(0, 0.6, 0.8)).toRotationMatrix();
  const Eigen::Vector3d d(0.01, -0.02, 0.03);
  Eigen::Isometry3d w1 = w0;
  w1.translation() += d;
  w1.linear() = r * w0.linear();
  t = m->TargetPose(0, RightHand(w1, 0.5));
  ASSERT_TRUE(t.ok());
  // Written out: C d = (-d_z, -d_x, d_y).
  EXPECT_TRUE(t->translation().isApprox(e0.translation() + 2.0 * Eigen::Vector3d(-0.03, -0.01, -0.02), 1e-12));
  EXPECT_TRUE(t->linear().isApprox(C() * r * C().transpose() * e0.linear(), 1e-12));

  // The paper's reference point (the default): the thumb knuckle, K = wrist * knuckle offset.
  auto knuckle = HumanToRobotMapper::Create(Robot(action::Embodiment::kPiper), Hand(), {});
  ASSERT_TRUE(knuckle.ok());
  ASSERT_TRUE(knuckle->Reset(start).ok());
  t = knuckle->TargetPose(0, RightHand(w1, 0.5));
  ASSERT_TRUE(t.ok());
  const Eigen::Vector3d k0 = Prior().KnuckleFromWrist(w0, Side::kRight).translation();
  const Eigen::Vector3d k1 = Prior().KnuckleFromWrist(w1, Side::kRight).translation();
  ASSERT_GT((k1 - k0 - d).norm(), 1e-3);  // the knuckle moves differently from the wrist under rotation
  EXPECT_TRUE(t->translation().isApprox(e0.translation() + C() * (k1 - k0), 1e-12));
}

// Raw ARKit numbers (no helper rotation): hands 0.4 m in front of the user (-z), 0.3 m below the head.
HandPose ArkitHand(Side side, const Eigen::Vector3d& p) {
  Eigen::Isometry3d w = Eigen::Isometry3d::Identity();
  w.translation() = p;
  HandPose h = Prior().HandAt(w, side, 0.5);
  return h;
}

TEST(HumanToRobotTest, ArkitUpAndAwayMoveTheEndEffectorUpAndForward) {
  for (auto e : {action::Embodiment::kAlohaAgilex, action::Embodiment::kPiper, action::Embodiment::kArx5}) {
    const EmbodimentDescription robot = Robot(e);
    auto m = HumanToRobotMapper::Create(robot, Hand(), {});
    ASSERT_TRUE(m.ok());
    auto hands = [](const Eigen::Vector3d& offset) {
      HumanHands h;
      h.Set(Side::kLeft, ArkitHand(Side::kLeft, Eigen::Vector3d(-0.15, -0.3, -0.4) + offset));
      h.Set(Side::kRight, ArkitHand(Side::kRight, Eigen::Vector3d(0.15, -0.3, -0.4) + offset));
      return h;
    };
    ASSERT_TRUE(m->Reset(hands({0, 0, 0})).ok());
    for (int a = 0; a < m->num_arms(); ++a) {
      const auto& arm = robot.arms[a];
      const Eigen::Vector3d e0 = arm.chain.ForwardUnchecked(arm.home).translation();
      const std::string who = absl::StrCat(robot.name, " ", kinematics::SideName(arm.side));
      auto moved = [&](const Eigen::Vector3d& offset) {
        auto t = m->TargetPose(a, hands(offset).at(arm.side));
        EXPECT_TRUE(t.ok());
        return Eigen::Vector3d(t->translation() - e0);
      };
      EXPECT_TRUE(moved({0, 0.05, 0}).isApprox(Eigen::Vector3d(0, 0, 0.05), 1e-12)) << who << ": up";
      EXPECT_TRUE(moved({0, 0, -0.05}).isApprox(Eigen::Vector3d(0.05, 0, 0), 1e-12)) << who << ": away";
      EXPECT_TRUE(moved({0.05, 0, 0}).isApprox(Eigen::Vector3d(0, -0.05, 0), 1e-12)) << who << ": right";
    }
    // Through IK: raising both hands by 4 cm raises every arm's end effector (FK of the joints) by 4 cm.
    auto cmds = m->Step(hands({0, 0.04, 0}));
    ASSERT_TRUE(cmds.ok());
    for (int a = 0; a < m->num_arms(); ++a) {
      const auto& arm = robot.arms[a];
      ASSERT_TRUE((*cmds)[a].ik_status.ok()) << robot.name << " " << (*cmds)[a].ik_status;
      const Eigen::Vector3d d = arm.chain.ForwardUnchecked((*cmds)[a].joints).translation() -
                                arm.chain.ForwardUnchecked(arm.home).translation();
      EXPECT_NEAR(d.z(), 0.04, 1e-3) << robot.name;
      EXPECT_NEAR(d.head<2>().norm(), 0.0, 1e-3) << robot.name;
    }
  }
  // A hand turning to its left about ARKit's up axis turns the end effector about the base's up axis.
  auto m = HumanToRobotMapper::Create(Robot(action::Embodiment::kPiper), Hand(), {});
  ASSERT_TRUE(m.ok());
  HumanHands h;
  h.Set(Side::kRight, ArkitHand(Side::kRight, {0.15, -0.3, -0.4}));
  ASSERT_TRUE(m->Reset(h).ok());
  Eigen::Isometry3d turned = h.at(Side::kRight).wrist;
  turned.linear() = Eigen::AngleAxisd(0.4, Eigen::Vector3d::UnitY()).toRotationMatrix() * turned.linear();
  auto t = m->TargetPose(0, Prior().HandAt(turned, Side::kRight, 0.5));
  ASSERT_TRUE(t.ok());
  const Eigen::Matrix3d r_e0 = m->embodiment().arms[0].chain.ForwardUnchecked(m->embodiment().arms[0].home).linear();
  EXPECT_TRUE((t->linear() * r_e0.transpose()).isApprox(Eigen::AngleAxisd(0.4, Eigen::Vector3d::UnitZ()).toRotationMatrix(), 1e-9));
}

TEST(HumanToRobotTest, TrajectoryTracksWithinLimits) {
  for (auto e : {action::Embodiment::kPiper, action::Embodiment::kArx5, action::Embodiment::kLocoman,
                 action::Embodiment::kAlohaAgilex}) {
    auto m = HumanToRobotMapper::Create(Robot(e), Hand(), {});
    ASSERT_TRUE(m.ok());
    auto frame = [](int t) {
      HumanHands h;
      const double s = 0.05 * t;
      const Eigen::Isometry3d w = Wrist(0.3 + 0.04 * std::sin(s), -0.2 + 0.03 * s, 1.0 - 0.02 * s, 0.2 * std::sin(s), 0.1 * s, 0.0);
      h.Set(Side::kRight, RightHand(w, 0.5 + 0.5 * std::sin(s)));
      h.Set(Side::kLeft, MirrorToLeft(h.at(Side::kRight)));
      return h;
    };
    ASSERT_TRUE(m->Reset(frame(0)).ok());
    for (int t = 0; t < 40; ++t) {
      auto cmds = m->Step(frame(t));
      ASSERT_TRUE(cmds.ok()) << cmds.status();
      ASSERT_EQ(static_cast<int>(cmds->size()), m->num_arms());
      for (int a = 0; a < m->num_arms(); ++a) {
        const ArmCommand& c = (*cmds)[a];
        const auto& arm = m->embodiment().arms[a];
        EXPECT_TRUE(c.ik_status.ok()) << arm.name << " t=" << t << ": " << c.ik_status;
        EXPECT_TRUE(arm.chain.WithinLimits(c.joints, 0.0));
        const auto d = kinematics::DistanceBetween(arm.chain.ForwardUnchecked(c.joints), c.ee_target);
        EXPECT_LT(d.position_m, 1e-4);
        EXPECT_LT(d.rotation_rad, 1e-3);
        EXPECT_GE(c.gripper, arm.gripper.min_m);
        EXPECT_LE(c.gripper, arm.gripper.max_m);
      }
    }
  }
}

TEST(HumanToRobotTest, MirroredLeftHandGivesMirroredArmMotion) {
  // LocoMan's front legs are mirror images through the trunk's x-z plane, so a mirrored hand motion
  // must give mirrored end-effector targets and mirrored joints (hip, joint_2, joint_3 negate).
  const EmbodimentDescription loco = Robot(action::Embodiment::kLocoman);
  auto m = HumanToRobotMapper::Create(loco, Hand(), {});
  ASSERT_TRUE(m.ok());
  const int right = loco.arms[0].side == Side::kRight ? 0 : 1, left = 1 - right;
  auto mirror_joints = [](const JointVector& q) {
    JointVector r = q;
    r[0] = -q[0];
    r[4] = -q[4];
    r[5] = -q[5];
    return r;
  };
  std::vector<JointVector> q0(2);
  q0[right] = loco.arms[right].home;
  q0[left] = mirror_joints(loco.arms[right].home);
  auto frame = [](int t) {
    HumanHands h;
    const double s = 0.1 * t;
    h.Set(Side::kRight, RightHand(Wrist(0.4 + 0.03 * s, -0.25 + 0.02 * std::sin(s), 0.9 + 0.01 * s,
                                        0.15 * std::sin(s), 0.1 * s, -0.2 * s), 0.3));
    h.Set(Side::kLeft, MirrorToLeft(h.at(Side::kRight)));
    return h;
  };
  ASSERT_TRUE(m->Reset(frame(0), q0).ok());
  const Eigen::Matrix3d mm = SagittalMirror();
  for (int t = 1; t <= 10; ++t) {
    auto cmds = m->Step(frame(t));
    ASSERT_TRUE(cmds.ok());
    const ArmCommand& r = (*cmds)[right];
    const ArmCommand& l = (*cmds)[left];
    ASSERT_TRUE(r.ik_status.ok() && l.ik_status.ok());
    EXPECT_TRUE(l.ee_target.translation().isApprox(mm * r.ee_target.translation(), 1e-9)) << "t=" << t;
    EXPECT_TRUE(l.ee_target.linear().isApprox(mm * r.ee_target.linear() * mm, 1e-9)) << "t=" << t;
    EXPECT_LT((l.joints - mirror_joints(r.joints)).norm(), 1e-4) << "t=" << t;
  }
  // ALOHA's arms are not mounted exactly symmetrically, but the motions are still mirrored.
  auto aloha = HumanToRobotMapper::Create(Robot(action::Embodiment::kAlohaAgilex), Hand(), {});
  ASSERT_TRUE(aloha.ok());
  ASSERT_TRUE(aloha->Reset(frame(0)).ok());
  const int ar = aloha->embodiment().arms[0].side == Side::kRight ? 0 : 1, al = 1 - ar;
  auto first = aloha->Step(frame(0));
  auto later = aloha->Step(frame(6));
  ASSERT_TRUE(first.ok() && later.ok());
  const Eigen::Vector3d dr = (*later)[ar].ee_target.translation() - (*first)[ar].ee_target.translation();
  const Eigen::Vector3d dl = (*later)[al].ee_target.translation() - (*first)[al].ee_target.translation();
  EXPECT_GT(dr.norm(), 0.01);
  EXPECT_TRUE(dl.isApprox(mm * dr, 1e-9));
  const Eigen::Matrix3d rr = (*later)[ar].ee_target.linear() * (*first)[ar].ee_target.linear().transpose();
  const Eigen::Matrix3d rl = (*later)[al].ee_target.linear() * (*first)[al].ee_target.linear().transpose();
  EXPECT_TRUE(rl.isApprox(mm * rr * mm, 1e-9));
}

TEST(HumanToRobotTest, GripperFromThumbIndexDistance) {
  auto m = HumanToRobotMapper::Create(Robot(action::Embodiment::kPiper), Hand(), {});
  ASSERT_TRUE(m.ok());
  const Eigen::Isometry3d w = Wrist(0.3, -0.2, 1.0, 0, 0, 0);
  HumanHands h;
  h.Set(Side::kRight, RightHand(w, 0.0));
  ASSERT_TRUE(m->Reset(h).ok());
  for (double pinch : {0.0, 0.02, 0.085, 0.15, 0.3}) {
    HandPose hand = RightHand(w, 0.0);
    hand.tips[kThumb] = hand.tips[kIndex] + Eigen::Vector3d(0, 0, pinch);
    h.Set(Side::kRight, hand);
    auto c = m->Step(h);
    ASSERT_TRUE(c.ok());
    const double want = std::clamp((pinch - 0.02) / 0.13, 0.0, 1.0) * 0.07;
    EXPECT_NEAR((*c)[0].gripper, want, 1e-12) << pinch;
  }
}

TEST(HumanToRobotTest, UnreachableAndBadInput) {
  auto m = HumanToRobotMapper::Create(Robot(action::Embodiment::kPiper), Hand(), {});
  ASSERT_TRUE(m.ok());
  HumanHands h;
  EXPECT_EQ(m->Step(h).status().code(), absl::StatusCode::kFailedPrecondition);  // no Reset
  // No hand at the start: the arm holds, then anchors where the hand first appears.
  ASSERT_TRUE(m->Reset(h).ok());
  auto held = m->Step(h);
  ASSERT_TRUE(held.ok());
  EXPECT_FALSE((*held)[0].hand_present);
  const Eigen::Isometry3d w = Wrist(0.3, -0.2, 1.0, 0, 0, 0);
  h.Set(Side::kRight, RightHand(w, 0.5));
  auto anchored = m->Step(h);
  ASSERT_TRUE(anchored.ok());
  EXPECT_TRUE((*anchored)[0].joints.isApprox(m->embodiment().arms[0].home, 1e-9));
  h.Set(Side::kRight, RightHand(w, 0.5));
  ASSERT_TRUE(m->Reset(h).ok());
  // 3 m away: out of reach; reported, joints held (finite, in limits), not an error of Step.
  Eigen::Isometry3d far = w;
  far.translation().x() += 3.0;
  h.Set(Side::kRight, RightHand(far, 0.5));
  auto c = m->Step(h);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[0].ik_status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string((*c)[0].ik_status.message()), testing::HasSubstr("best residual"));
  EXPECT_TRUE((*c)[0].joints.allFinite());
  EXPECT_TRUE((*c)[0].joints.isApprox(m->embodiment().arms[0].home));
  EXPECT_GT((*c)[0].position_error_m, 2.0);
  // NaN in the hand: InvalidArgument.
  HandPose bad = RightHand(w, 0.5);
  bad.tips[kRing].y() = std::numeric_limits<double>::quiet_NaN();
  h.Set(Side::kRight, bad);
  EXPECT_EQ(m->Step(h).status().code(), absl::StatusCode::kInvalidArgument);
  // No hand this frame: joints held, marked absent.
  HumanHands none;
  c = m->Step(none);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE((*c)[0].hand_present);
  HumanToRobotMapper::Options o;
  o.mapping.position_scale = -1;
  EXPECT_FALSE(HumanToRobotMapper::Create(Robot(action::Embodiment::kPiper), Hand(), o).ok());
}

TEST(HumanToRobotTest, WriteRobotSlicesUsesTheRightArmSlots) {
  auto m = HumanToRobotMapper::Create(Robot(action::Embodiment::kPiper), Hand(), {});
  ASSERT_TRUE(m.ok());
  HumanHands h;
  h.Set(Side::kRight, RightHand(Wrist(0.3, -0.2, 1.0, 0, 0, 0), 1.0));
  ASSERT_TRUE(m->Reset(h).ok());
  auto c = m->Step(h);
  ASSERT_TRUE(c.ok());
  double a[action::kActionDim] = {};
  action::ActionMask mask;
  WriteRobotSlices(m->embodiment(), *c, a, &mask);
  EXPECT_EQ(mask, action::SliceMask(action::kJointsRight) | action::SliceMask(action::kEndEffectorRight));
  EXPECT_DOUBLE_EQ(a[action::kJointsRight.begin + action::kArmGripper], 0.07);
  const Eigen::Isometry3d ee = m->embodiment().arms[0].chain.ForwardUnchecked((*c)[0].joints);
  EXPECT_NEAR(a[action::kEndEffectorRight.begin + 2], ee.translation().z(), 1e-12);
  EXPECT_GE(a[action::kEndEffectorRight.begin + action::kEeQuat], 0.0);  // w >= 0
}

}  // namespace
}  // namespace mivla::retarget
