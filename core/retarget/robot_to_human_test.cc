#include "core/retarget/robot_to_human.h"

#include <limits>
#include <random>

#include "core/kinematics/embodiment_loader.h"
#include "core/kinematics/transforms.h"
#include "core/retarget/human_to_robot.h"
#include "gtest/gtest.h"

namespace mivla::retarget {
namespace {

using kinematics::EmbodimentDescription;
using kinematics::JointVector;

EmbodimentDescription Robot(action::Embodiment e) { return *kinematics::LoadEmbodiment(e); }
kinematics::HandDescription Hand() { return *kinematics::LoadHandDescription(); }

JointVector RandomInLimits(const kinematics::KinematicChain& c, std::mt19937* rng, double margin) {
  std::uniform_real_distribution<double> u(margin, 1.0 - margin);
  JointVector q(c.num_joints());
  for (int i = 0; i < q.size(); ++i) q[i] = c.lower()[i] + u(*rng) * (c.upper()[i] - c.lower()[i]);
  return q;
}

// robot joints -> human (eq. 3) -> 48-D slice -> robot (eq. 2 inverse pair, IK) -> FK: the end-effector
// pose must come back within 1 mm and 0.01 rad and the gripper exactly.
void RoundTrip(action::Embodiment e, MappingOptions mapping, int trials) {
  const EmbodimentDescription robot = Robot(e);
  RobotToHumanMapper::Options ro;
  ro.mapping = mapping;
  auto r2h = RobotToHumanMapper::Create(robot, Hand(), ro);
  ASSERT_TRUE(r2h.ok()) << r2h.status();
  HumanToRobotMapper::Options ho;
  ho.mapping = mapping;
  auto h2r = HumanToRobotMapper::Create(robot, Hand(), ho);
  ASSERT_TRUE(h2r.ok());
  // The episode start: home joints and a human pose for them (any pose works for the relative map).
  HumanHands start;
  std::vector<JointVector> home;
  for (const auto& arm : robot.arms) {
    home.push_back(arm.home);
    start.Set(arm.side, r2h->prior().HandAt(kinematics::PoseFromXyzRpy({0.3, 0.1, 1.0}, {0.2, 0.1, -0.4}), arm.side, 0.4));
  }
  if (mapping.mode == MappingMode::kRelative) {
    ASSERT_TRUE(r2h->Reset(home, start).ok());
  }
  ASSERT_TRUE(h2r->Reset(start, home).ok());

  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int k = 0; k < trials; ++k) {
    std::vector<JointVector> q;
    std::vector<double> g;
    for (const auto& arm : robot.arms) {
      q.push_back(RandomInLimits(arm.chain, &rng, 0.05));
      g.push_back(arm.gripper.min_m + unit(rng) * (arm.gripper.max_m - arm.gripper.min_m));
    }
    auto hands = r2h->Map(q, g);
    ASSERT_TRUE(hands.ok()) << hands.status();
    auto through_slice = HandsFromHuman48(HandsToHuman48(*hands));  // what the model sees
    ASSERT_TRUE(through_slice.ok());
    auto cmds = h2r->Step(*through_slice);
    ASSERT_TRUE(cmds.ok()) << cmds.status();
    for (size_t a = 0; a < robot.arms.size(); ++a) {
      const auto& arm = robot.arms[a];
      const ArmCommand& c = (*cmds)[a];
      ASSERT_TRUE(c.ik_status.ok()) << robot.name << " trial " << k << ": " << c.ik_status;
      const auto d = kinematics::DistanceBetween(arm.chain.ForwardUnchecked(c.joints), arm.chain.ForwardUnchecked(q[a]));
      EXPECT_LT(d.position_m, 1e-3) << robot.name;
      EXPECT_LT(d.rotation_rad, 0.01) << robot.name;
      EXPECT_NEAR(c.gripper, g[a], 1e-9) << robot.name;
    }
  }
}

TEST(RobotToHumanTest, RoundTripAbsoluteEveryRobot) {
  for (auto e : {action::Embodiment::kPiper, action::Embodiment::kArx5, action::Embodiment::kLocoman,
                 action::Embodiment::kAlohaAgilex}) {
    RoundTrip(e, {1.0, ReferencePoint::kWrist, MappingMode::kAbsolute}, 25);
  }
}

TEST(RobotToHumanTest, RoundTripRelativeAndThumbKnuckle) {
  RoundTrip(action::Embodiment::kPiper, {1.0, ReferencePoint::kWrist, MappingMode::kRelative}, 25);
  RoundTrip(action::Embodiment::kArx5, {1.5, ReferencePoint::kThumbKnuckle, MappingMode::kRelative}, 25);
  RoundTrip(action::Embodiment::kLocoman, {0.8, ReferencePoint::kThumbKnuckle, MappingMode::kAbsolute}, 25);
}

TEST(RobotToHumanTest, Equation3Frames) {
  const EmbodimentDescription piper = Robot(action::Embodiment::kPiper);
  RobotToHumanMapper::Options o;
  o.mapping = {1.0, ReferencePoint::kWrist, MappingMode::kAbsolute};
  auto r2h = RobotToHumanMapper::Create(piper, Hand(), o);
  ASSERT_TRUE(r2h.ok());
  const Eigen::Isometry3d ee = piper.arms[0].chain.ForwardUnchecked(piper.arms[0].home);
  auto hands = r2h->MapPoses({ee}, {0.07});
  ASSERT_TRUE(hands.ok());
  ASSERT_TRUE(hands->has(Side::kRight));
  EXPECT_FALSE(hands->has(Side::kLeft));
  const HandPose& h = hands->at(Side::kRight);
  // Wrist at the end effector seen in the ARKit world (C^T p(E)), R(K) = C^T R(E) ee_in_hand^T: the
  // hand's fingers (+x) along the flange's approach axis (+z), the thumb (+z) along the flange's y.
  const Eigen::Matrix3d ct = piper.arms[0].retarget.human_to_base.transpose();
  EXPECT_TRUE(h.wrist.translation().isApprox(ct * ee.translation(), 1e-12));
  EXPECT_TRUE((h.wrist.linear() * Eigen::Vector3d::UnitX()).isApprox(ct * ee.linear() * Eigen::Vector3d::UnitZ(), 1e-12));
  EXPECT_TRUE((h.wrist.linear() * Eigen::Vector3d::UnitZ()).isApprox(ct * ee.linear() * Eigen::Vector3d::UnitY(), 1e-12));
  EXPECT_NEAR(PinchDistance(h), 0.15, 1e-12);  // gripper fully open -> open pinch
  hands = r2h->MapPoses({ee}, {0.0});
  EXPECT_NEAR(PinchDistance(hands->at(Side::kRight)), 0.02, 1e-12);
}

TEST(RobotToHumanTest, BaseUpAndForwardMoveTheHandUpAndAwayInArkit) {
  // Default options (relative, thumb knuckle), anchored without a human start (the data path): an end
  // effector moving up (+z base) moves the hand up (+y ARKit), forward (+x) moves it away from the user (-z),
  // for both hands of ALOHA.
  const EmbodimentDescription aloha = Robot(action::Embodiment::kAlohaAgilex);
  auto r2h = RobotToHumanMapper::Create(aloha, Hand(), {});
  ASSERT_TRUE(r2h.ok());
  ASSERT_TRUE(r2h->Reset({}, {}).ok());
  std::vector<Eigen::Isometry3d> e0;
  for (const auto& arm : aloha.arms) e0.push_back(arm.chain.ForwardUnchecked(arm.home));
  auto knuckles = [&](const Eigen::Vector3d& d) {
    std::vector<Eigen::Isometry3d> e = e0;
    for (auto& p : e) p.translation() += d;
    auto hands = r2h->MapPoses(e, {0.03, 0.03});
    EXPECT_TRUE(hands.ok());
    std::vector<Eigen::Vector3d> out;
    for (const auto& arm : aloha.arms) {
      out.push_back(r2h->prior().KnuckleFromWrist(hands->at(arm.side).wrist, arm.side).translation());
    }
    return out;
  };
  const auto base = knuckles({0, 0, 0}), up = knuckles({0, 0, 0.05}), fwd = knuckles({0.05, 0, 0});
  for (size_t a = 0; a < aloha.arms.size(); ++a) {
    EXPECT_TRUE((up[a] - base[a]).isApprox(Eigen::Vector3d(0, 0.05, 0), 1e-12)) << aloha.arms[a].name;
    EXPECT_TRUE((fwd[a] - base[a]).isApprox(Eigen::Vector3d(0, 0, -0.05), 1e-12)) << aloha.arms[a].name;
  }
}

TEST(RobotToHumanTest, DefaultOptionsInvertTheHumanToRobotMapOnTheDataPath) {
  // As core/data/complements does: robot -> human anchored at the robot's first pose, then human -> robot
  // anchored at that pose's hands, with default options on both sides: the joints' FK comes back.
  for (auto e : {action::Embodiment::kPiper, action::Embodiment::kAlohaAgilex}) {
    const EmbodimentDescription robot = Robot(e);
    auto r2h = RobotToHumanMapper::Create(robot, Hand(), {});
    auto h2r = HumanToRobotMapper::Create(robot, Hand(), {});
    ASSERT_TRUE(r2h.ok() && h2r.ok());
    std::vector<JointVector> home;
    std::vector<double> g0;
    for (const auto& arm : robot.arms) {
      home.push_back(arm.home);
      g0.push_back(arm.gripper.max_m);
    }
    ASSERT_TRUE(r2h->Reset(home, {}).ok());
    auto start = r2h->Map(home, g0);
    ASSERT_TRUE(start.ok());
    auto start_slice = HandsFromHuman48(HandsToHuman48(*start));
    ASSERT_TRUE(start_slice.ok());
    ASSERT_TRUE(h2r->Reset(*start_slice, home).ok());
    std::mt19937 rng(3);
    for (int k = 0; k < 15; ++k) {
      std::vector<JointVector> q;
      for (const auto& arm : robot.arms) q.push_back(RandomInLimits(arm.chain, &rng, 0.1));
      auto hands = r2h->Map(q, g0);
      ASSERT_TRUE(hands.ok());
      auto cmds = h2r->Step(*HandsFromHuman48(HandsToHuman48(*hands)));
      ASSERT_TRUE(cmds.ok());
      for (size_t a = 0; a < robot.arms.size(); ++a) {
        ASSERT_TRUE((*cmds)[a].ik_status.ok()) << robot.name << " " << k;
        const auto d = kinematics::DistanceBetween(robot.arms[a].chain.ForwardUnchecked((*cmds)[a].joints),
                                                   robot.arms[a].chain.ForwardUnchecked(q[a]));
        EXPECT_LT(d.position_m, 1e-3) << robot.name;
        EXPECT_LT(d.rotation_rad, 0.01) << robot.name;
      }
    }
  }
}

TEST(RobotToHumanTest, BadInput) {
  const EmbodimentDescription piper = Robot(action::Embodiment::kPiper);
  RobotToHumanMapper::Options absolute;
  absolute.mapping.mode = MappingMode::kAbsolute;
  auto r2h = RobotToHumanMapper::Create(piper, Hand(), absolute);
  ASSERT_TRUE(r2h.ok());
  JointVector q = piper.arms[0].home;
  q[1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(r2h->Map({q}, {0.01}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r2h->Map({piper.arms[0].home}, {std::nan("")}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r2h->Map({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  auto rel = RobotToHumanMapper::Create(piper, Hand(), {});  // relative by default
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->Map({piper.arms[0].home}, {0.0}).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mivla::retarget
