// ArrivalStats with made-up times: the mean gaps (all arrivals, and those that could be served in
// time), and the blocking budget from the slack a batch could protect, inside its 2 s window.
#include "server/batching/arrival_stats.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

const absl::Time kT0 = absl::UnixEpoch() + absl::Hours(10);
absl::Time At(double ms) { return kT0 + absl::Milliseconds(ms); }
absl::Duration Ms(double ms) { return absl::Milliseconds(ms); }
double InMs(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

TEST(ArrivalStatsTest, NothingKnownBeforeTwoArrivals) {
  ArrivalStats stats;
  EXPECT_EQ(stats.next_arrival(), absl::InfiniteFuture());
  EXPECT_EQ(stats.servable_gap(), absl::InfiniteDuration());
  EXPECT_EQ(stats.blocking_budget(At(0)), absl::InfiniteDuration());
  stats.Record(At(0), Ms(500), Ms(40));
  EXPECT_EQ(stats.next_arrival(), absl::InfiniteFuture());
  EXPECT_EQ(stats.servable_gap(), absl::InfiniteDuration());
  EXPECT_EQ(stats.blocking_budget(At(0)), Ms(250));
}

TEST(ArrivalStatsTest, GapsAreMovingMeansAndLostArrivalsDoNotCountAsServable) {
  ArrivalStats stats;
  stats.Record(At(0), Ms(500), Ms(40));
  stats.Record(At(10), Ms(500), Ms(40));
  EXPECT_NEAR(InMs(stats.servable_gap()), 10, 1e-6);
  EXPECT_EQ(stats.next_arrival(), At(20));
  stats.Record(At(30), Ms(500), Ms(40));  // gap 20: 0.8 x 10 + 0.2 x 20
  EXPECT_NEAR(InMs(stats.servable_gap()), 12, 1e-6);
  EXPECT_NEAR(InMs(stats.next_arrival() - kT0), 42, 1e-6);
  // Robots already out of actions (slack <= 0) and one no batch could serve in time (slack <= cost(1))
  // arrive every 2 ms: they move the next arrival but not the servable gap.
  stats.Record(At(32), Ms(-100), Ms(40));
  stats.Record(At(34), Ms(40), Ms(40));
  stats.Record(At(36), absl::ZeroDuration(), Ms(40));
  EXPECT_NEAR(InMs(stats.servable_gap()), 12, 1e-6);
  EXPECT_NEAR(InMs(stats.next_arrival() - kT0), 36 + 7.12, 1e-6) << "mean gap 12 -> 10 -> 8.4 -> 7.12";
  // The next servable arrival measures its gap from the last servable one (30), not from 36.
  stats.Record(At(50), absl::InfiniteDuration(), Ms(40));  // no urgency: servable
  EXPECT_NEAR(InMs(stats.servable_gap()), 0.8 * 12 + 0.2 * 20, 1e-6);
}

TEST(ArrivalStatsTest, BudgetIsHalfTheSmallestProtectableSlackOfTheLastTwoSeconds) {
  ArrivalStats stats;
  stats.Record(At(0), Ms(300), Ms(40));  // 150
  stats.Record(At(5), Ms(800), Ms(40));  // 400
  EXPECT_EQ(stats.blocking_budget(At(10)), Ms(150));
  // 60 ms of slack misses behind any batch that is running when it arrives (2 x 40 > 60): no budget
  // could protect it, so it does not shrink the budget to 30 ms, which no batch would meet.
  stats.Record(At(10), Ms(60), Ms(40));
  EXPECT_EQ(stats.blocking_budget(At(10)), Ms(150));
  stats.Record(At(20), Ms(100), Ms(40));  // 100 > 80: protectable, 50
  EXPECT_EQ(stats.blocking_budget(At(20)), Ms(50));
  EXPECT_EQ(stats.blocking_budget(At(2019)), Ms(50));
  EXPECT_EQ(stats.blocking_budget(At(2021)), absl::InfiniteDuration()) << "all older than 2 s";
  stats.Record(At(3000), absl::InfiniteDuration(), Ms(40));
  EXPECT_EQ(stats.blocking_budget(At(3000)), absl::InfiniteDuration()) << "no urgency: nothing to protect";
}

TEST(ArrivalStatsTest, ThresholdsAreStrictAndNothingMeasuredCountsEveryPositiveSlack) {
  ArrivalStats stats;
  stats.Record(At(0), Ms(80), Ms(40));  // exactly 2 x cost(1): not protectable
  EXPECT_EQ(stats.blocking_budget(At(0)), absl::InfiniteDuration());
  stats.Record(At(10), Ms(40), Ms(40));  // exactly cost(1): not servable
  stats.Record(At(20), Ms(41), Ms(40));  // servable: the gap from 0 (80 > 40), not from 10
  EXPECT_NEAR(InMs(stats.servable_gap()), 20, 1e-6);
  // Before any batch ran the cost model says zero: every task with some slack counts, none without.
  ArrivalStats fresh;
  fresh.Record(At(0), Ms(1), absl::ZeroDuration());
  fresh.Record(At(5), absl::ZeroDuration(), absl::ZeroDuration());
  fresh.Record(At(7), Ms(1), absl::ZeroDuration());
  EXPECT_NEAR(InMs(fresh.servable_gap()), 7, 1e-6);
  EXPECT_NEAR(InMs(fresh.blocking_budget(At(7))), 0.5, 1e-6);
}

TEST(ArrivalStatsTest, BudgetKeepsTheLast32ProtectableArrivals) {
  ArrivalStats stats;
  stats.Record(At(0), Ms(100), Ms(10));  // 50, soon overwritten
  for (int i = 1; i <= 32; ++i) stats.Record(At(i), Ms(400), Ms(10));
  EXPECT_EQ(stats.blocking_budget(At(40)), Ms(200));
}

}  // namespace
}  // namespace mivla::server
