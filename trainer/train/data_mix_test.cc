#include "trainer/train/data_mix.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace mivla::trainer {
namespace {

TEST(SampleRngTest, SameSeedSameNumbersDifferentPositionDifferentNumbers) {
  SampleRng a(7, 3, 5), b(7, 3, 5), c(7, 3, 6), d(7, 4, 5), e(8, 3, 5);
  const uint64_t first = a.NextU64();
  EXPECT_EQ(first, b.NextU64());
  EXPECT_NE(first, c.NextU64());
  EXPECT_NE(first, d.NextU64());
  EXPECT_NE(first, e.NextU64());
}

TEST(SampleRngTest, UniformAndBelowStayInRangeAndCoverIt) {
  SampleRng rng(1, 2, 3);
  std::vector<int> counts(7, 0);
  double sum = 0;
  for (int i = 0; i < 70000; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    const uint64_t k = rng.Below(7);
    ASSERT_LT(k, 7u);
    ++counts[k];
  }
  EXPECT_NEAR(sum / 70000, 0.5, 0.01);
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  EXPECT_EQ(rng.Below(1), 0u);
}

TEST(DataMixTest, SourcesAreDrawnByWeightAndFramesUniformly) {
  // Source 0 (weight 3): episodes of 10 and 30 frames; source 1 (weight 1): one episode of 5 frames.
  auto mix = DataMix::Create({3.0, 1.0}, {{10, 30}, {5}});
  ASSERT_TRUE(mix.ok()) << mix.status();
  EXPECT_DOUBLE_EQ(mix->probability(0), 0.75);
  EXPECT_DOUBLE_EQ(mix->probability(1), 0.25);
  const int n = 40000;
  int source_counts[2] = {0, 0};
  int episode_counts[2] = {0, 0};
  std::vector<int> frame_counts(5, 0);
  for (int j = 0; j < n; ++j) {
    SampleRng rng(11, j / 16, j % 16);
    const FrameRef r = mix->Draw(&rng);
    ASSERT_GE(r.source, 0);
    ASSERT_LT(r.source, 2);
    ++source_counts[r.source];
    if (r.source == 0) {
      ++episode_counts[r.episode];
      ASSERT_LT(r.frame, r.episode == 0 ? 10 : 30);
    } else {
      ASSERT_EQ(r.episode, 0);
      ASSERT_LT(r.frame, 5);
      ++frame_counts[r.frame];
    }
  }
  // Binomial standard deviations: ~87 for the sources; 4 sigma tolerances.
  EXPECT_NEAR(source_counts[0], 0.75 * n, 350);
  // Within source 0, episodes in proportion to their frames (1 : 3).
  EXPECT_NEAR(static_cast<double>(episode_counts[0]) / source_counts[0], 0.25, 0.02);
  for (int c : frame_counts) EXPECT_NEAR(c, source_counts[1] / 5.0, 150);
}

TEST(DataMixTest, EmptyEpisodesAreNeverDrawn) {
  auto mix = DataMix::Create({1.0}, {{0, 4, 0, 2, 0}});
  ASSERT_TRUE(mix.ok());
  for (int j = 0; j < 2000; ++j) {
    SampleRng rng(3, 0, j);
    const FrameRef r = mix->Draw(&rng);
    ASSERT_TRUE(r.episode == 1 || r.episode == 3) << r.episode;
    ASSERT_LT(r.frame, r.episode == 1 ? 4 : 2);
  }
}

TEST(DataMixTest, BadWeightsAndEmptySourcesAreErrors) {
  EXPECT_FALSE(DataMix::Create({}, {}).ok());
  EXPECT_FALSE(DataMix::Create({1.0, 0.0}, {{1}, {1}}).ok());
  EXPECT_FALSE(DataMix::Create({1.0, -2.0}, {{1}, {1}}).ok());
  EXPECT_FALSE(DataMix::Create({NAN}, {{1}}).ok());
  EXPECT_FALSE(DataMix::Create({1.0}, {{}}).ok());
  EXPECT_FALSE(DataMix::Create({1.0}, {{0, 0}}).ok());
  EXPECT_FALSE(DataMix::Create({1.0, 1.0}, {{1}}).ok());
  auto s = DataMix::Create({1.0, 0.0}, {{1}, {1}});
  EXPECT_NE(std::string(s.status().message()).find("source 1"), std::string::npos) << s.status();
}

TEST(DataMixTest, FrameWeightsShiftTheFramesWithinASourceOnly) {
  // Source 0 (weight 1): episodes of 4 and 2 frames, frame 1 of episode 0 weighing 5; source 1
  // (weight 1): uniform.
  auto mix = DataMix::Create({1.0, 1.0}, {{4, 2}, {3}}, {{{1, 5, 1, 1}, {1, 1}}, {}});
  ASSERT_TRUE(mix.ok()) << mix.status();
  const int n = 40000;
  std::vector<int> counts(6, 0);  // source 0's frames in episode order
  int source1 = 0;
  for (int j = 0; j < n; ++j) {
    SampleRng rng(5, j / 16, j % 16);
    const FrameRef r = mix->Draw(&rng);
    if (r.source == 1) {
      ++source1;
      continue;
    }
    ASSERT_LT(r.frame, r.episode == 0 ? 4 : 2);
    ++counts[r.episode * 4 + r.frame];
  }
  EXPECT_NEAR(source1, n / 2, 400);  // source weights unchanged
  const double total = n - source1;  // total weight 10: frame 1 draws half, every other frame a tenth
  EXPECT_NEAR(counts[1] / total, 0.5, 0.015);
  for (int k : {0, 2, 3, 4, 5}) EXPECT_NEAR(counts[k] / total, 0.1, 0.01) << k;
}

TEST(DataMixTest, ASourceWithoutFrameWeightsDrawsAsBefore) {
  auto plain = DataMix::Create({2.0, 1.0}, {{10, 30}, {5}});
  auto weighted = DataMix::Create({2.0, 1.0}, {{10, 30}, {5}}, {{}, {{1, 2, 3, 4, 5}}});
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(weighted.ok());
  for (int j = 0; j < 500; ++j) {
    SampleRng a(9, 0, j), b(9, 0, j);
    const FrameRef x = plain->Draw(&a), y = weighted->Draw(&b);
    if (x.source != 0) continue;
    EXPECT_EQ(y.source, 0);
    EXPECT_EQ(x.episode, y.episode);
    EXPECT_EQ(x.frame, y.frame);
  }
}

TEST(DataMixTest, BadFrameWeightsAreErrorsNamingTheSourceAndEpisode) {
  EXPECT_FALSE(DataMix::Create({1.0}, {{2}}, {{{1, 1}}, {}}).ok());  // weights for 2 of 1 sources
  EXPECT_FALSE(DataMix::Create({1.0}, {{2, 3}}, {{{1, 1}}}).ok());   // 1 of 2 episodes
  auto short_episode = DataMix::Create({1.0}, {{2, 3}}, {{{1, 1}, {1, 1}}});
  ASSERT_FALSE(short_episode.ok());
  EXPECT_NE(std::string(short_episode.status().message()).find("source 0 episode 1"), std::string::npos)
      << short_episode.status();
  EXPECT_FALSE(DataMix::Create({1.0}, {{2}}, {{{1, 0}}}).ok());
  EXPECT_FALSE(DataMix::Create({1.0}, {{2}}, {{{1, NAN}}}).ok());
}

}  // namespace
}  // namespace mivla::trainer
