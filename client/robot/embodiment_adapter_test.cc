// File: embodiment_adapter_test.cc
#include "client/robot/embodiment_adapter.h"

#include <cmath>

#include "core/kinematics/embodiment_loader.h"
#include "gtest/gtest.h"

namespace mivla::client {
namespace {

using action::Embodiment;

AdapterOptions Opt(RetargetMode mode, Embodiment session) {
  AdapterOptions o;
  o.mode = mode;
  o.session_embodiment = session;
  return o;
}

kinematics::EmbodimentDescription Load(Embodiment e) {
  absl::StatusOr<kinematics::EmbodimentDescription> d = kinematics::LoadEmbodiment(e);
  EXPECT_TRUE(d.ok()) << d.status();
  return *d;
}

RobotReading ReadingAt(const kinematics::EmbodimentDescription& robot, double offset) {
  RobotReading r;
  for (const kinematics::ArmDescription& a : robot.arms) {
    ArmReading ar;
    ar.joints = a.home;
    ar.joints[0] += offset;
    ar.gripper = a.gripper.max_m;
    ar.ee_in_base = a.chain.ForwardUnchecked(ar.joints);
    r.arms.push_back(ar);
  }
  return r;
}

request::DecodedStep StepFor(const kinematics::EmbodimentDescription& robot, double offset, double gripper) {
  request::DecodedStep s;
  for (const kinematics::ArmDescription& a : robot.arms) {
    request::NativeArm n;
    n.left = a.side == kinematics::Side::kLeft;
    kinematics::JointVector q = a.home;
    q[0] += offset;
    q[2] += offset;
    for (int j = 0; j < 6; ++j) n.joints[j] = q[j];
    n.gripper = gripper;
    n.has_pose = true;
    n.ee = a.chain.ForwardUnchecked(q);
    s.arms.push_back(n);
  }
  return s;
}

TEST(EmbodimentAdapterTest, JointsModeDrivesTheTrainedRobotDirectly) {
  const kinematics::EmbodimentDescription piper = Load(Embodiment::kPiper);
  auto ad = EmbodimentAdapter::Create(piper, Opt(RetargetMode::kJoints, Embodiment::kPiper));
  ASSERT_TRUE(ad.ok()) << ad.status();
  (*ad)->Reset(ReadingAt(piper, 0.0));
  const request::DecodedStep s = StepFor(piper, 0.1, 0.02);
  absl::StatusOr<RobotCommand> c = (*ad)->Map(s);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->arms.size(), 1u);
  for (int j = 0; j < 6; ++j) EXPECT_DOUBLE_EQ(c->arms[0].joints[j], s.arms[0].joints[j]);
  EXPECT_DOUBLE_EQ(c->arms[0].gripper, 0.02);

  mivla::v1::Proprioception p;
  ASSERT_TRUE((*ad)->FillProprioception(ReadingAt(piper, 0.05), &p).ok());
  ASSERT_EQ(p.right().joint_positions_size(), 6);
  EXPECT_DOUBLE_EQ(p.right().joint_positions(0), piper.arms[0].home[0] + 0.05);
  EXPECT_TRUE(p.right().has_end_effector());
  EXPECT_FALSE(p.has_left());
}

TEST(EmbodimentAdapterTest, InconsistentOptionsAreRefused) {
  const kinematics::EmbodimentDescription arx5 = Load(Embodiment::kArx5);
  absl::Status s = EmbodimentAdapter::Create(arx5, Opt(RetargetMode::kJoints, Embodiment::kPiper)).status();
  EXPECT_NE(s.message().find("mode ik"), std::string::npos) << s;
  EXPECT_FALSE(EmbodimentAdapter::Create(arx5, Opt(RetargetMode::kIk, Embodiment::kAlohaAgilex)).ok());
  EXPECT_FALSE(EmbodimentAdapter::Create(arx5, Opt(RetargetMode::kHuman, Embodiment::kPiper)).ok());
  EXPECT_FALSE(ParseRetargetMode("teleport").ok());
  EXPECT_EQ(*ParseRetargetMode("ik"), RetargetMode::kIk);
}

TEST(EmbodimentAdapterTest, AutoModePicksFromTheModelsEmbodiments) {
  const kinematics::EmbodimentDescription arx5 = Load(Embodiment::kArx5);
  const kinematics::EmbodimentDescription loco = Load(Embodiment::kLocoman);
  AdapterOptions autom = Opt(RetargetMode::kAuto, Embodiment::kPiper);
  autom.session_embodiment.reset();
  absl::StatusOr<AdapterOptions> r = ResolveRetarget(autom, arx5, {Embodiment::kArx5, Embodiment::kPiper});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mode, RetargetMode::kJoints);  // trained on it
  EXPECT_EQ(r->session_embodiment, Embodiment::kArx5);
  r = ResolveRetarget(autom, arx5, {Embodiment::kHuman, Embodiment::kAlohaAgilex, Embodiment::kPiper});
  EXPECT_EQ(r->mode, RetargetMode::kIk);  // not trained on it: IK through the one-armed PiPER
  EXPECT_EQ(r->session_embodiment, Embodiment::kPiper);
  r = ResolveRetarget(autom, loco, {Embodiment::kPiper, Embodiment::kAlohaAgilex});
  EXPECT_EQ(r->session_embodiment, Embodiment::kAlohaAgilex);  // two arms
  r = ResolveRetarget(autom, arx5, {Embodiment::kHuman, Embodiment::kAlohaAgilex});
  EXPECT_EQ(r->mode, RetargetMode::kHuman);
  EXPECT_EQ(ResolveRetarget(autom, arx5, {Embodiment::kAlohaAgilex}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(EmbodimentAdapter::Create(arx5, autom).ok());  // must be resolved first
  absl::StatusOr<AdapterOptions> same = ResolveRetarget(Opt(RetargetMode::kIk, Embodiment::kPiper), arx5, {});
  EXPECT_EQ(same->mode, RetargetMode::kIk);  // other modes pass through
}

// An untrained robot (ARX-5) follows a PiPER session's end-effector poses through its own IK.
TEST(EmbodimentAdapterTest, IkModeReachesTheChunkPoses) {
  const kinematics::EmbodimentDescription arx5 = Load(Embodiment::kArx5);
  const kinematics::EmbodimentDescription piper = Load(Embodiment::kPiper);
  auto ad = EmbodimentAdapter::Create(arx5, Opt(RetargetMode::kIk, Embodiment::kPiper));
  ASSERT_TRUE(ad.ok()) << ad.status();
  (*ad)->Reset(ReadingAt(arx5, 0.0));
  request::DecodedStep s = StepFor(arx5, 0.15, piper.arms[0].gripper.max_m);  // a pose ARX-5 can reach
  absl::StatusOr<RobotCommand> c = (*ad)->Map(s);
  ASSERT_TRUE(c.ok()) << c.status();
  const Eigen::Isometry3d reached = arx5.arms[0].chain.ForwardUnchecked(c->arms[0].joints);
  EXPECT_LT((reached.translation() - s.arms[0].ee.translation()).norm(), 1e-3);
  EXPECT_NEAR(c->arms[0].gripper, arx5.arms[0].gripper.max_m, 1e-9);  // range to range
  EXPECT_EQ((*ad)->ik_failures(), 0);

  s.arms[0].ee.translation().x() = std::nan("");
  c = (*ad)->Map(s);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->arms[0].joints.allFinite());  // the safety layer holds on it
}

// LocoMan: IK through the composite leg (3) + manipulator (3) chains, both arms.
TEST(EmbodimentAdapterTest, LocomanCompositeChainsFollowPoses) {
  const kinematics::EmbodimentDescription loco = Load(Embodiment::kLocoman);
  auto ad = EmbodimentAdapter::Create(loco, Opt(RetargetMode::kIk, Embodiment::kLocoman));
  ASSERT_TRUE(ad.ok()) << ad.status();
  (*ad)->Reset(ReadingAt(loco, 0.0));
  const request::DecodedStep s = StepFor(loco, 0.08, 1.0);
  absl::StatusOr<RobotCommand> c = (*ad)->Map(s);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->arms.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const Eigen::Isometry3d reached = loco.arms[i].chain.ForwardUnchecked(c->arms[i].joints);
    const request::NativeArm& want = s.arms[0].left == (loco.arms[i].side == kinematics::Side::kLeft) ? s.arms[0] : s.arms[1];
    EXPECT_LT((reached.translation() - want.ee.translation()).norm(), 1e-3) << "arm " << i;
    EXPECT_NE(c->arms[i].joints[0], loco.arms[i].home[0]);  // the leg moved too
  }
}

// A human-only model drives an arm: the chunk's hand motion maps onto the robot by eq. 2.
TEST(EmbodimentAdapterTest, HumanModeMapsHandMotionOntoTheArm) {
  const kinematics::EmbodimentDescription piper = Load(Embodiment::kPiper);
  auto ad = EmbodimentAdapter::Create(piper, Opt(RetargetMode::kHuman, Embodiment::kHuman));
  ASSERT_TRUE(ad.ok()) << ad.status();
  const RobotReading start = ReadingAt(piper, 0.0);
  (*ad)->Reset(start);
  mivla::v1::Proprioception p;
  absl::Status fill = (*ad)->FillProprioception(start, &p);
  ASSERT_TRUE(fill.ok()) << fill.ToString();
  ASSERT_EQ(p.unified_size(), action::kActionDim);
  request::DecodedStep s0;
  s0.has_unified = true;
  for (int d = 0; d < action::kActionDim; ++d) s0.unified[d] = p.unified(d);
  absl::StatusOr<RobotCommand> c0 = (*ad)->Map(s0);  // anchors K_0 at the robot's start
  ASSERT_TRUE(c0.ok()) << c0.status();
  const Eigen::Isometry3d e0 = piper.arms[0].chain.ForwardUnchecked(c0->arms[0].joints);
  EXPECT_LT((e0.translation() - start.arms[0].ee_in_base.translation()).norm(), 2e-3);

  request::DecodedStep s1 = s0;
  const Eigen::Vector3d move_human(0.03, 0.0, 0.0);  // the right wrist moves 3 cm along the human x axis
  for (int k = 0; k < 3; ++k) s1.unified[action::kHumanRight.begin + action::kHandWristPos + k] += move_human[k];
  for (int f = 0; f < 5; ++f) {
    for (int k = 0; k < 3; ++k) s1.unified[action::kHumanRight.begin + action::kHandTips + 3 * f + k] += move_human[k];
  }
  absl::StatusOr<RobotCommand> c1 = (*ad)->Map(s1);
  ASSERT_TRUE(c1.ok()) << c1.status();
  const Eigen::Isometry3d e1 = piper.arms[0].chain.ForwardUnchecked(c1->arms[0].joints);
  const Eigen::Vector3d want = piper.arms[0].retarget.human_to_base * move_human;
  EXPECT_LT(((e1.translation() - e0.translation()) - want).norm(), 3e-3);
}

}  // namespace
}  // namespace mivla::client
