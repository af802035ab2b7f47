// File: arm_mjcf_test.cc
// The generated MJCF loads for every embodiment, and MuJoCo's forward kinematics of each arm equals
// core/kinematics' KinematicChain::Forward at random in-limit joint values.
#include <random>

#include "gtest/gtest.h"
#include "sim/rig.h"
#include "sim/scene.h"
#include "sim/sim_env.h"

namespace mivla::sim {
namespace {

using action::Embodiment;

class ArmFkTest : public ::testing::TestWithParam<Embodiment> {};

TEST_P(ArmFkTest, MujocoFkMatchesChainFk) {
  absl::StatusOr<Rig> rig = BuildRig(GetParam(), kNominalTableHeight);
  ASSERT_TRUE(rig.ok()) << rig.status();
  std::mt19937_64 rng(1);
  const std::string xml = BuildSceneXml(*rig, SampleAppearance(Mode::kEasy, rng), "");
  absl::StatusOr<std::unique_ptr<SimEnv>> env = SimEnv::Create(xml, *rig);
  ASSERT_TRUE(env.ok()) << env.status();
  mjData* d = const_cast<mjData*>((*env)->data());
  const mjModel* m = (*env)->model();
  for (size_t e = 0; e < rig->effectors.size(); ++e) {
    const Effector& eff = rig->effectors[e];
    for (int trial = 0; trial < 20; ++trial) {
      kinematics::JointVector q(eff.arm.chain.num_joints());
      for (int j = 0; j < q.size(); ++j) {
        q[j] = std::uniform_real_distribution<double>(eff.arm.chain.lower()[j], eff.arm.chain.upper()[j])(rng);
        const int jid = mj_name2id(m, mjOBJ_JOINT, (eff.prefix + "j" + std::to_string(j)).c_str());
        ASSERT_GE(jid, 0);
        d->qpos[m->jnt_qposadr[jid]] = q[j];
      }
      mj_kinematics(m, d);
      const Eigen::Isometry3d expected = eff.arm.chain.ForwardUnchecked(q);
      const Eigen::Isometry3d got = (*env)->EeInBase(e);
      EXPECT_LT((got.translation() - expected.translation()).norm(), 1e-6) << eff.prefix << " trial " << trial;
      EXPECT_LT((got.linear() - expected.linear()).norm(), 1e-6) << eff.prefix << " trial " << trial;
      // The TCP site sits where tcp_in_ee says.
      const Eigen::Isometry3d tcp = eff.base_world * expected * eff.tcp_in_ee;
      EXPECT_LT((tcp.translation() - (*env)->TcpWorld(e).translation()).norm(), 1e-6);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Robots, ArmFkTest,
                         ::testing::Values(Embodiment::kPiper, Embodiment::kArx5, Embodiment::kAlohaAgilex,
                                           Embodiment::kLocoman),
                         [](const auto& info) { return std::string(action::EmbodimentName(info.param)); });

TEST(SceneTest, HumanHandsLoadWithArkitSites) {
  absl::StatusOr<Rig> rig = BuildRig(Embodiment::kHuman, kNominalTableHeight);
  ASSERT_TRUE(rig.ok()) << rig.status();
  std::mt19937_64 rng(2);
  absl::StatusOr<std::unique_ptr<SimEnv>> env = SimEnv::Create(BuildSceneXml(*rig, SampleAppearance(Mode::kHard, rng), ""), *rig);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_TRUE((*env)->SitePose("rightIndexFingerTip").ok());
  EXPECT_TRUE((*env)->SitePose("leftThumbKnuckle").ok());
  // The right index tip lies ahead of the right wrist along the hand's +x (fingers forward).
  const Eigen::Isometry3d wrist = *(*env)->SitePose("rightHand");
  const Eigen::Vector3d tip = wrist.inverse() * (*env)->SitePose("rightIndexFingerTip")->translation();
  EXPECT_GT(tip.x(), 0.1);
}

TEST(SceneTest, SameSeedSameHardAppearance) {
  std::mt19937_64 a(7), b(7), c(8);
  const Appearance x = SampleAppearance(Mode::kHard, a), y = SampleAppearance(Mode::kHard, b),
                   z = SampleAppearance(Mode::kHard, c);
  EXPECT_EQ(x.table_height_m, y.table_height_m);
  EXPECT_EQ(x.distractors.size(), y.distractors.size());
  EXPECT_NE(x.table_height_m, z.table_height_m);
  EXPECT_LE(std::abs(x.table_height_m - kNominalTableHeight), 0.03);
}

}  // namespace
}  // namespace mivla::sim
