#include "server/inference/chunk_builder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace mivla::server {
namespace {

TEST(ChunkBuilderTest, NativeTermsTimestampsAndMask) {
  const int h = 3;
  std::vector<float> v(h * action::kActionDim, 0.0f);
  for (int s = 0; s < h; ++s) {
    float* row = v.data() + s * action::kActionDim;
    for (int j = 0; j < 6; ++j) row[action::kJointsLeft.begin + j] = 0.1f * j + s;
    row[action::kJointsLeft.begin + action::kArmGripper] = 0.03f;
    row[action::kJointsRight.begin] = -0.5f;
    row[action::kEndEffectorLeft.begin + 3] = -2.0f;  // quaternion (-2, 0, 0, 0) -> (1, 0, 0, 0)
    row[action::kEndEffectorRight.begin + 3] = 0.0f;
    row[action::kEndEffectorRight.begin + 4] = 3.0f;  // (0, 3, 0, 0) -> (0, 1, 0, 0)
    row[0] = 7.0f;                                    // a human slot: outside ALOHA's mask
  }
  ChunkMeta meta{action::Embodiment::kAlohaAgilex, 5000000, 0.05, 42};
  mivla::v1::ActionChunk c;
  BuildActionChunk(v.data(), h, meta, &c);
  EXPECT_EQ(c.embodiment(), mivla::v1::ALOHA_AGILEX);
  EXPECT_EQ(c.observation_id(), 42u);
  ASSERT_EQ(c.steps_size(), h);
  ASSERT_EQ(c.valid_mask_size(), action::kActionDim);
  EXPECT_FALSE(c.valid_mask(0));
  EXPECT_TRUE(c.valid_mask(action::kJointsLeft.begin));
  EXPECT_EQ(c.steps(2).timestamp_us(), 5100000);
  EXPECT_NEAR(c.steps(2).left().joint_positions(3), 2.3, 1e-6);
  EXPECT_NEAR(c.steps(0).left().gripper(), 0.03, 1e-6);
  EXPECT_NEAR(c.steps(0).right().joint_positions(0), -0.5, 1e-6);
  EXPECT_NEAR(c.steps(0).left().end_effector().qw(), 1.0, 1e-9);
  EXPECT_NEAR(c.steps(0).right().end_effector().qx(), 1.0, 1e-9);
  EXPECT_EQ(c.steps(0).unified(0), 0.0f);  // masked slots are zeroed
  EXPECT_EQ(c.steps(0).unified_size(), action::kActionDim);
}

TEST(ChunkBuilderTest, ResamplesTheModelStepsOntoTheSessionPeriod) {
  // A 10 Hz model (H = 16, 1.6 s) served to a 25 Hz robot: 40 steps 40 ms apart. Model step h is the state
  // at (h+1) x 0.1 s; wire step k is issued at k x 0.04 s and holds the state wanted at (k+1) x 0.04 s.
  const int h = 16;
  std::vector<float> v(h * action::kActionDim, 0.0f);
  for (int s = 0; s < h; ++s) {
    float* row = v.data() + s * action::kActionDim;
    row[action::kJointsRight.begin] = static_cast<float>(s);  // joint 0 = model step index
    row[action::kEndEffectorRight.begin + 3] = 1.0f;           // identity rotation ...
  }
  // ... except the last step, the same rotation with the other sign: the blend must not pass through 0.
  v[(h - 1) * action::kActionDim + action::kEndEffectorRight.begin + 3] = -1.0f;
  ChunkMeta meta{action::Embodiment::kPiper, 1000000, 0.04, 7, 0.1};
  EXPECT_EQ(ChunkSteps(h, 0.1, 0.04), 40);
  EXPECT_EQ(ChunkSteps(h, 0.1, 0.1), h);
  EXPECT_EQ(ChunkSteps(h, 0.0, 0.04), h);
  EXPECT_EQ(ChunkSteps(h, 0.1, 1.0), 1);
  mivla::v1::ActionChunk c;
  BuildActionChunk(v.data(), h, meta, &c);
  ASSERT_EQ(c.steps_size(), 40);
  EXPECT_DOUBLE_EQ(c.control_period_s(), 0.04);
  for (int k = 0; k < 40; ++k) {
    EXPECT_EQ(c.steps(k).timestamp_us(), 1000000 + 40000 * k);
    const double expected = std::clamp((k + 1) * 0.4 - 1.0, 0.0, 15.0);  // (k+1) x 0.04 / 0.1 - 1
    EXPECT_NEAR(c.steps(k).right().joint_positions(0), expected, 1e-5) << "step " << k;
    EXPECT_NEAR(std::abs(c.steps(k).right().end_effector().qw()), 1.0, 1e-6) << "step " << k;
  }
  EXPECT_NEAR(c.steps(2).right().joint_positions(0), 0.2, 1e-5);   // 0.12 s: 80% step 0, 20% step 1
  EXPECT_NEAR(c.steps(39).right().joint_positions(0), 15.0, 1e-5);  // 1.6 s: the last model step

  // A slower robot (5 Hz) takes every other model step, and the chunk still ends at the model's last.
  mivla::v1::ActionChunk slow;
  BuildActionChunk(v.data(), h, {action::Embodiment::kPiper, 0, 0.2, 7, 0.1}, &slow);
  ASSERT_EQ(slow.steps_size(), 8);
  EXPECT_NEAR(slow.steps(0).right().joint_positions(0), 1.0, 1e-5);
  EXPECT_NEAR(slow.steps(7).right().joint_positions(0), 15.0, 1e-5);
}

TEST(ChunkBuilderTest, OneArmedRobotsFillOnlyRightAndHumansNoArms) {
  std::vector<float> v(2 * action::kActionDim, 0.25f);
  mivla::v1::ActionChunk piper, human;
  BuildActionChunk(v.data(), 2, {action::Embodiment::kPiper, 0, 0.1, 1}, &piper);
  EXPECT_TRUE(piper.steps(0).has_right());
  EXPECT_FALSE(piper.steps(0).has_left());
  BuildActionChunk(v.data(), 2, {action::Embodiment::kHuman, 0, 0.1, 1}, &human);
  EXPECT_FALSE(human.steps(0).has_right());
  EXPECT_EQ(human.steps(0).unified(0), 0.25f);
}

TEST(ChunkBuilderTest, StepTimestampsSaturateInsteadOfWrapping) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(StepTimestampUs(1000, 3, 0.02), 61000);
  EXPECT_EQ(StepTimestampUs(kMax - 10, 5, 0.1), kMax);
  EXPECT_EQ(StepTimestampUs(0, 2, 1e300), kMax);  // control_rate_hz 1e-300
  EXPECT_EQ(StepTimestampUs(5, 1, std::nan("")), 5);
  EXPECT_GE(StepTimestampUs(std::numeric_limits<int64_t>::min(), 1, -1e300), std::numeric_limits<int64_t>::min());
}

TEST(ChunkBuilderTest, NonFiniteValuesAreDetected) {
  const int h = 2;
  std::vector<float> v(h * action::kActionDim, 0.1f);
  ChunkMeta meta{action::Embodiment::kPiper, 0, 0.1, 1};
  mivla::v1::ActionChunk c;
  BuildActionChunk(v.data(), h, meta, &c);
  EXPECT_TRUE(ChunkIsFinite(c));
  v[action::kActionDim + action::kJointsRight.begin + 2] = std::numeric_limits<float>::quiet_NaN();
  c.Clear();
  BuildActionChunk(v.data(), h, meta, &c);
  EXPECT_FALSE(ChunkIsFinite(c));
  c.Clear();
  v.assign(v.size(), 0.1f);
  BuildActionChunk(v.data(), h, meta, &c);
  c.mutable_steps(1)->mutable_right()->mutable_end_effector()->set_qx(std::numeric_limits<double>::infinity());
  EXPECT_FALSE(ChunkIsFinite(c));
}

}  // namespace
}  // namespace mivla::server
