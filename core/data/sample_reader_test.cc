#include "core/data/sample_reader.h"

#include "Eigen/Geometry"
#include "Eigen/LU"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/data/test_util.h"
#include "core/kinematics/embodiment_loader.h"

namespace mivla::data {
namespace {

using action::ActionMask;
using action::Embodiment;
using action::SliceMask;

TEST(UnifiedEpisodeTest, AlohaFillsBothArmsJointsAndEndEffectors) {
  const kinematics::EmbodimentDescription aloha = *kinematics::LoadEmbodiment(Embodiment::kAlohaAgilex);
  RobotEpisode r = testing::MakeRobotEpisode(Embodiment::kAlohaAgilex, 5);
  auto u = UnifyRobotEpisode(r);
  ASSERT_TRUE(u.ok()) << u.status();
  const ActionMask want = SliceMask(action::kJointsLeft) | SliceMask(action::kJointsRight) |
                          SliceMask(action::kEndEffectorLeft) | SliceMask(action::kEndEffectorRight);
  for (int t = 0; t < 5; ++t) {
    EXPECT_EQ(u->masks[t], want);
    for (int j = 0; j < 6; ++j) {
      EXPECT_EQ(u->states[t][48 + j], r.arms[0].joints[t][j]);
      EXPECT_EQ(u->states[t][55 + j], r.arms[1].joints[t][j]);
    }
    EXPECT_EQ(u->states[t][54], r.arms[0].gripper[t]);
    EXPECT_EQ(u->states[t][61], r.arms[1].gripper[t]);
    // End effectors: FK of the joints in each arm's base frame (not the file's world-frame poses).
    for (int a = 0; a < 2; ++a) {
      const kinematics::ArmDescription* arm = aloha.FindArm(a == 0 ? kinematics::Side::kLeft : kinematics::Side::kRight);
      ASSERT_NE(arm, nullptr);
      const Eigen::Isometry3d ee = arm->chain.ForwardUnchecked(
          Eigen::Map<const Eigen::VectorXd>(r.arms[a].joints[t].data(), 6));
      const double* slot = u->states[t].data() + (a == 0 ? 62 : 69);
      EXPECT_NEAR((Eigen::Vector3d(slot[0], slot[1], slot[2]) - ee.translation()).norm(), 0.0, 1e-12);
      const Eigen::Quaterniond q(slot[3], slot[4], slot[5], slot[6]);
      EXPECT_TRUE(q.toRotationMatrix().isApprox(ee.linear(), 1e-9)) << "frame " << t << " arm " << a;
      EXPECT_GE(slot[3], 0.0);
      EXPECT_GT((Eigen::Vector3d(slot[0], slot[1], slot[2]) -
                 Eigen::Vector3d(r.arms[a].endpose[t][0], r.arms[a].endpose[t][1], r.arms[a].endpose[t][2])).norm(), 0.01);
    }
    for (int i = 0; i < 48; ++i) EXPECT_EQ(u->states[t][i], 0.0);
  }
  EXPECT_EQ(u->instruction, "move the bottle onto the pad");
  EXPECT_EQ(u->cameras.size(), 3u);
}

TEST(UnifiedEpisodeTest, OneArmedRobotUsesTheRightSlots) {
  for (Embodiment tag : {Embodiment::kPiper, Embodiment::kArx5}) {
    auto u = UnifyRobotEpisode(testing::MakeRobotEpisode(tag, 3));
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->masks[0], SliceMask(action::kJointsRight) | SliceMask(action::kEndEffectorRight));
    EXPECT_EQ(u->masks[0] & action::EmbodimentMask(tag), u->masks[0]);
  }
}

TEST(UnifiedEpisodeTest, ArmWithSevenJointsIsRejected) {
  RobotEpisode r = testing::MakeRobotEpisode(Embodiment::kPiper, 2);
  for (auto& q : r.arms[1].joints) q.push_back(0.0);
  auto u = UnifyRobotEpisode(r);
  ASSERT_FALSE(u.ok());
  EXPECT_THAT(std::string(u.status().message()), ::testing::HasSubstr("right arm has 7 joints"));
}

TEST(UnifiedEpisodeTest, HumanHandsInWorldAndCameraFrames) {
  HumanEpisode h = testing::MakeHumanEpisode(4, 0);
  auto world = UnifyHumanEpisode(h, HumanFrame::kWorld);
  auto camera = UnifyHumanEpisode(h, HumanFrame::kCamera);
  ASSERT_TRUE(world.ok() && camera.ok());
  const ActionMask hands = SliceMask(action::kHumanLeft) | SliceMask(action::kHumanRight);
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(world->masks[t], hands);
    const Eigen::Vector3d wrist = h.transforms.at("rightHand")[t].topRightCorner<3, 1>();
    EXPECT_NEAR(world->states[t][24], wrist.x(), 1e-12);
    EXPECT_NEAR(world->states[t][25], wrist.y(), 1e-12);
    const Eigen::Vector4d in_cam = h.transforms.at("camera")[t].inverse() * wrist.homogeneous();
    EXPECT_NEAR(camera->states[t][24], in_cam.x(), 1e-9);
    EXPECT_NEAR(camera->states[t][26], in_cam.z(), 1e-9);
    // Thumb tip (offset 9 within a hand) of the left hand, world frame.
    EXPECT_NEAR(world->states[t][9], h.transforms.at("leftThumbTip")[t](0, 3), 1e-12);
  }
  // A missing right hand leaves its slots unmasked.
  for (const char* j : {"rightHand", "rightThumbKnuckle", "rightThumbTip", "rightIndexFingerTip",
                        "rightMiddleFingerTip", "rightRingFingerTip", "rightLittleFingerTip"}) {
    h.transforms.erase(j);
  }
  auto left_only = UnifyHumanEpisode(h, HumanFrame::kWorld);
  ASSERT_TRUE(left_only.ok());
  EXPECT_EQ(left_only->masks[0], SliceMask(action::kHumanLeft));
}

TEST(SampleReaderTest, ChunkIsPaddedWithTheLastFrameAndMarkedInvalid) {
  auto u = UnifyRobotEpisode(testing::MakeRobotEpisode(Embodiment::kAlohaAgilex, 6));
  ASSERT_TRUE(u.ok());
  SampleOptions o;
  o.horizon = 4;
  auto s = MakeSample(*u, 3, o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->proprio, u->states[3]);
  EXPECT_EQ(s->proprio_mask, u->masks[3]);
  ASSERT_EQ(s->actions.size(), 4u);
  EXPECT_EQ(s->step_valid, (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(s->actions[0], u->states[4]);
  EXPECT_EQ(s->actions[1], u->states[5]);
  EXPECT_EQ(s->actions[2], u->states[5]);
  EXPECT_EQ(s->actions[3], u->states[5]);
  EXPECT_EQ(s->action_mask, u->masks[5]);
  ASSERT_EQ(s->images.size(), 3u);
  EXPECT_EQ(s->images[0].first, "head_camera");
  EXPECT_EQ(MaxAbsDiff(s->images[0].second, u->cameras[0].frames[3]), 0);
  // Interior samples are fully valid; offset 0 starts the chunk at t.
  o.action_offset = 0;
  s = MakeSample(*u, 0, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->step_valid, (std::vector<bool>{true, true, true, true}));
  EXPECT_EQ(s->actions[0], u->states[0]);
  EXPECT_EQ(s->actions[3], u->states[3]);
}

TEST(SampleReaderTest, ActionMaskIsTheIntersectionOverValidSteps) {
  HumanEpisode h = testing::MakeHumanEpisode(5, 0);
  auto u = UnifyHumanEpisode(h, HumanFrame::kWorld);
  ASSERT_TRUE(u.ok());
  u->masks[2] = SliceMask(action::kHumanLeft);  // the right hand drops out at frame 2
  SampleOptions o;
  o.horizon = 3;
  auto s = MakeSample(*u, 0, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->action_mask, SliceMask(action::kHumanLeft));
  EXPECT_EQ(s->step_masks[1], SliceMask(action::kHumanLeft));
  EXPECT_EQ(s->embodiment, Embodiment::kHuman);
  EXPECT_EQ(s->instruction, "pick up the red cup and place it on the plate");
}

TEST(SampleReaderTest, ComplementedRobotSampleCarriesLabelAndComplementMasks) {
  auto u = UnifyRobotEpisode(testing::MakeRobotEpisode(Embodiment::kAlohaAgilex, 6, 0, 0));
  ASSERT_TRUE(u.ok());
  u->instructions = {"move the bottle onto the pad", "put the bottle on the pad"};
  const UnifiedEpisode plain = *u;
  // Complements as complements.h fills them: human slots, here with values that show frame and slot.
  u->complement_embodiment = Embodiment::kHuman;
  u->complement_masks.assign(6, SliceMask(action::kHumanLeft) | SliceMask(action::kHumanRight));
  for (int t = 0; t < 6; ++t) {
    for (int d = 0; d < action::kHumanDim; ++d) u->states[t][d] = 100 * t + d;
  }
  u->complement_masks[4] = SliceMask(action::kHumanLeft);  // the right hand's retargeting failed at frame 4
  SampleOptions o;
  o.horizon = 3;
  o.with_images = false;
  auto s = MakeSample(*u, 0, o);  // steps = frames 1, 2, 3
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->label_mask, action::EmbodimentMask(Embodiment::kAlohaAgilex));
  EXPECT_EQ(s->complement_mask, SliceMask(action::kHumanLeft) | SliceMask(action::kHumanRight));
  EXPECT_EQ(s->action_mask, s->label_mask | s->complement_mask);
  EXPECT_EQ(s->actions[1][30], 230.0);                     // complement value of frame 2, slot 30
  EXPECT_EQ(s->actions[1][48], plain.states[2][48]);       // own value untouched
  EXPECT_EQ(s->step_masks[0], plain.masks[1] | u->complement_masks[1]);
  // Proprioception is the own slots only: the complement never leaks into the state.
  EXPECT_EQ(s->proprio_mask, plain.masks[0]);
  for (int d = 0; d < action::kHumanDim; ++d) EXPECT_EQ(s->proprio[d], 0.0);
  EXPECT_EQ(s->proprio[50], plain.states[0][50]);
  EXPECT_EQ(s->instructions, u->instructions);
  EXPECT_EQ(s->instruction, u->instruction);
  // A chunk over frame 4 keeps only the hand retargeted in every valid step.
  s = MakeSample(*u, 2, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->complement_mask, SliceMask(action::kHumanLeft));
  // Without complements: an empty complement mask and zeros in the human slots (as before).
  s = MakeSample(plain, 0, o);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->complement_mask.none());
  EXPECT_EQ(s->action_mask, s->label_mask);
  for (int d = 0; d < action::kHumanDim; ++d) EXPECT_EQ(s->actions[0][d], 0.0);
  // Inconsistent complement masks are an error naming the episode.
  u->complement_masks.pop_back();
  u->source = "ep.hdf5";
  auto bad = MakeSample(*u, 0, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("ep.hdf5: 5 complement masks for 6 frames"));
}

TEST(SampleReaderTest, AllFramesAndBadArguments) {
  auto u = UnifyRobotEpisode(testing::MakeRobotEpisode(Embodiment::kPiper, 4));
  ASSERT_TRUE(u.ok());
  SampleOptions o;
  o.horizon = 2;
  o.with_images = false;
  auto all = MakeSamples(*u, o);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_TRUE(all->back().images.empty());
  EXPECT_EQ(all->back().step_valid, (std::vector<bool>{false, false}));
  EXPECT_FALSE(MakeSample(*u, 4, o).ok());
  EXPECT_FALSE(MakeSample(*u, -1, o).ok());
  o.horizon = 0;
  EXPECT_FALSE(MakeSample(*u, 0, o).ok());
}

}  // namespace
}  // namespace mivla::data
