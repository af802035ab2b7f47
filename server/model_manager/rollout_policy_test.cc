// RolloutPolicy alone: option checks, the seeded share draw, the verdicts, and the test's level and power
// on simulated trials (seeded, so the counts below are fixed).
#include "server/model_manager/rollout_policy.h"

#include <cstdio>
#include <random>

#include "gtest/gtest.h"

namespace mivla::server {
namespace {

RolloutOptions Opts(double share, int64_t min_episodes = 40, double alpha = 0.05, uint64_t seed = 7) {
  RolloutOptions o;
  o.canary_share = share;
  o.min_episodes = min_episodes;
  o.alpha = alpha;
  o.seed = seed;
  return o;
}

TEST(RolloutPolicyTest, RejectsBadOptionsNamingTheFlag) {
  auto bad = [](RolloutOptions o) { return RolloutPolicy::Create(o).status(); };
  EXPECT_NE(bad(Opts(1.5)).message().find("--canary-share"), absl::string_view::npos);
  EXPECT_NE(bad(Opts(-0.1)).message().find("--canary-share"), absl::string_view::npos);
  EXPECT_NE(bad(Opts(0.2, 0)).message().find("--canary-min-episodes"), absl::string_view::npos);
  EXPECT_NE(bad(Opts(0.2, 10, 0)).message().find("--canary-alpha"), absl::string_view::npos);
  EXPECT_NE(bad(Opts(0.2, 10, 1)).message().find("--canary-alpha"), absl::string_view::npos);
  RolloutOptions both = Opts(0.2);
  both.pin_version = "v1";
  both.pin_file = "/tmp/pin";
  EXPECT_EQ(bad(both).code(), absl::StatusCode::kInvalidArgument);
  auto off = RolloutPolicy::Create(Opts(0));
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->enabled());
}

TEST(RolloutPolicyTest, DrawsTheConfiguredShareDeterministicallyPerSeed) {
  auto a = RolloutPolicy::Create(Opts(0.2));
  auto b = RolloutPolicy::Create(Opts(0.2));
  auto other = RolloutPolicy::Create(Opts(0.2, 40, 0.05, 8));
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  int canaries = 0, same = 0;
  for (int i = 0; i < 10000; ++i) {
    const bool x = a->DrawCanary();
    canaries += x;
    EXPECT_EQ(x, b->DrawCanary());
    same += x == other->DrawCanary();
  }
  EXPECT_NEAR(canaries / 10000.0, 0.2, 0.015);  // binomial sd 0.004
  EXPECT_LT(same, 9500);                        // another seed draws other sessions
  auto all = RolloutPolicy::Create(Opts(1.0));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(all->DrawCanary());
}

TEST(RolloutPolicyTest, WaitsForEnoughEpisodesOfBothThenDecides) {
  auto p = RolloutPolicy::Create(Opts(0.2, 10));
  ASSERT_TRUE(p.ok());
  // 0/9 vs 10/10 is damning but the canary has 9 episodes: pending (the p-value is reported anyway).
  RolloutJudgement j = p->Judge({0, 9, 0}, {0, 10, 10});
  EXPECT_EQ(j.verdict, RolloutVerdict::kPending);
  EXPECT_LT(j.p_value, 1e-4);
  EXPECT_EQ(p->Judge({0, 10, 10}, {0, 9, 9}).verdict, RolloutVerdict::kPending);
  EXPECT_EQ(p->Judge({0, 10, 2}, {0, 10, 9}).verdict, RolloutVerdict::kRollback);  // p = 0.0027
  EXPECT_EQ(p->Judge({0, 10, 7}, {0, 10, 9}).verdict, RolloutVerdict::kPromote);   // p = 0.29
  EXPECT_EQ(p->Judge({0, 10, 10}, {0, 30, 3}).verdict, RolloutVerdict::kPromote);  // better: p = 1
  // At the boundary: 3/10 vs 8/10 has p = 0.0349: rolled back at 0.05, promoted at 0.01.
  auto strict = RolloutPolicy::Create(Opts(0.2, 10, 0.01));
  EXPECT_EQ(p->Judge({0, 10, 3}, {0, 10, 8}).verdict, RolloutVerdict::kRollback);
  EXPECT_EQ(strict->Judge({0, 10, 3}, {0, 10, 8}).verdict, RolloutVerdict::kPromote);
}

// Simulated trials: both arms run exactly 40 episodes with the given success probabilities.
double RollbackRate(double p_canary, double p_incumbent, int trials, uint64_t seed) {
  auto policy = RolloutPolicy::Create(Opts(0.5, 40));
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution canary(p_canary), incumbent(p_incumbent);
  int rollbacks = 0;
  for (int t = 0; t < trials; ++t) {
    ArmCounts c{0, 40, 0}, i{0, 40, 0};
    for (int e = 0; e < 40; ++e) {
      c.successes += canary(rng);
      i.successes += incumbent(rng);
    }
    rollbacks += policy->Judge(c, i).verdict == RolloutVerdict::kRollback;
  }
  return static_cast<double>(rollbacks) / trials;
}

TEST(RolloutPolicyTest, LevelAndPowerOnSimulatedTrials) {
  // Equal rates: the exact test rolls back at most alpha of the time (it is conservative).
  const double equal_high = RollbackRate(0.8, 0.8, 2000, 1), equal_half = RollbackRate(0.5, 0.5, 2000, 2);
  EXPECT_LE(equal_high, 0.05);
  EXPECT_LE(equal_half, 0.05);
  // A canary 30 points worse is caught most of the time with 40 episodes each; 60 points nearly always.
  const double worse = RollbackRate(0.5, 0.8, 2000, 3), much_worse = RollbackRate(0.2, 0.8, 500, 4);
  EXPECT_GE(worse, 0.75);
  EXPECT_GE(much_worse, 0.99);
  std::printf("rollbacks at 40 episodes each, alpha 0.05: 0.8 vs 0.8 %.4f, 0.5 vs 0.5 %.4f, 0.5 vs 0.8 %.4f, "
              "0.2 vs 0.8 %.4f\n", equal_high, equal_half, worse, much_worse);
}

}  // namespace
}  // namespace mivla::server
