#include "trainer/train/grasp_weights.h"

#include <vector>

#include "core/action/action_space.h"
#include "gtest/gtest.h"

namespace mivla::trainer {
namespace {

constexpr int kRightGripper = action::kJointsRight.end() - 1;
constexpr int kLeftGripper = action::kJointsLeft.end() - 1;

// A one-arm robot episode at 10 Hz whose right gripper opening follows `opening` (metres).
data::UnifiedEpisode RobotEpisode(const std::vector<double>& opening) {
  data::UnifiedEpisode e;
  e.embodiment = action::Embodiment::kPiper;
  e.fps = 10;
  for (double g : opening) {
    data::UnifiedVector v{};
    v[kRightGripper] = g;
    e.states.push_back(v);
    e.masks.push_back(action::EmbodimentMask(action::Embodiment::kPiper));
  }
  return e;
}

TEST(GraspWeightsTest, FindsEachClosingOfTheGripperAndNotItsOpening) {
  // Open (7 cm), closes on a block (4 cm) at frame 10, opens at 20, closes again at 30.
  std::vector<double> g(40, 0.07);
  for (int t = 10; t < 20; ++t) g[t] = 0.04;
  for (int t = 30; t < 40; ++t) g[t] = 0.04;
  g[9] = 0.06;  // on the way down, still above the middle (5.5 cm)
  EXPECT_EQ(GraspFrames(RobotEpisode(g)), (std::vector<int>{10, 30}));
}

TEST(GraspWeightsTest, AGripperThatBarelyMovesOrIsUnlabelledHasNoGrasps) {
  std::vector<double> g(20, 0.07);
  g[10] = 0.07 - 0.8 * kMinGripperTravel;
  EXPECT_TRUE(GraspFrames(RobotEpisode(g)).empty());
  // A real closing, but in the left arm's slot, which a PiPER episode does not label.
  data::UnifiedEpisode e = RobotEpisode(std::vector<double>(20, 0.07));
  for (int t = 10; t < 20; ++t) e.states[t][kLeftGripper] = 0.0;
  EXPECT_TRUE(GraspFrames(e).empty());
}

TEST(GraspWeightsTest, WeighsTheWindowAroundEachGraspClippedToTheDrawableFrames) {
  std::vector<double> g(30, 0.07);
  for (int t = 12; t < 30; ++t) g[t] = 0.0;
  const data::UnifiedEpisode e = RobotEpisode(g);
  const GraspBoost boost{.factor = 4, .before_s = 0.5, .after_s = 0.2};  // 5 frames before, 2 after
  const std::vector<double> w = GraspFrameWeights(e, 29, boost);
  ASSERT_EQ(w.size(), 29u);
  for (int t = 0; t < 29; ++t) EXPECT_EQ(w[t], (t >= 7 && t <= 14) ? 4.0 : 1.0) << t;
  // A grasp at the episode's end: the window stops at the last drawable frame.
  std::vector<double> late(12, 0.07);
  late[11] = 0.0;
  const std::vector<double> wl = GraspFrameWeights(RobotEpisode(late), 11, boost);
  ASSERT_EQ(wl.size(), 11u);
  for (int t = 0; t < 11; ++t) EXPECT_EQ(wl[t], t >= 6 ? 4.0 : 1.0) << t;
}

TEST(GraspWeightsTest, OffOrWithoutAFrameRateEveryFrameWeighsOne) {
  std::vector<double> g(20, 0.07);
  for (int t = 10; t < 20; ++t) g[t] = 0.0;
  data::UnifiedEpisode e = RobotEpisode(g);
  EXPECT_EQ(GraspFrameWeights(e, 19, GraspBoost{}), std::vector<double>(19, 1.0));
  e.fps = 0;
  EXPECT_EQ(GraspFrameWeights(e, 19, GraspBoost{.factor = 3}), std::vector<double>(19, 1.0));
}

}  // namespace
}  // namespace mivla::trainer
