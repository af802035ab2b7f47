#include "core/metrics/histogram.h"

#include <limits>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::metrics {
namespace {

using ::testing::ElementsAre;

TEST(HistogramTest, ValueEqualToBoundCountsInThatBucket) {
  Histogram h({1, 2, 5});
  h.Observe(0.5);  // le=1
  h.Observe(1);    // le=1 (equal to the bound)
  h.Observe(1.5);  // le=2
  h.Observe(2);    // le=2
  h.Observe(5);    // le=5
  h.Observe(7);    // +Inf
  const Histogram::Snapshot s = h.Collect();
  EXPECT_THAT(s.cumulative_counts, ElementsAre(2u, 4u, 5u, 6u));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 17);
}

TEST(HistogramTest, NoBoundsHasOnlyInf) {
  Histogram h({});
  h.Observe(-3);
  EXPECT_THAT(h.Collect().cumulative_counts, ElementsAre(1u));
}

TEST(HistogramTest, ValidatesBounds) {
  EXPECT_TRUE(Histogram::ValidateBounds({}).ok());
  EXPECT_TRUE(Histogram::ValidateBounds({-1, 0, 1}).ok());
  EXPECT_FALSE(Histogram::ValidateBounds({1, 1}).ok());
  EXPECT_FALSE(Histogram::ValidateBounds({2, 1}).ok());
  EXPECT_FALSE(Histogram::ValidateBounds({1, std::numeric_limits<double>::infinity()}).ok());
}

TEST(HistogramTest, BoundHelpers) {
  EXPECT_THAT(Histogram::LinearBounds(1, 2, 3), ElementsAre(1, 3, 5));
  EXPECT_THAT(Histogram::ExponentialBounds(1, 2, 4), ElementsAre(1, 2, 4, 8));
  EXPECT_TRUE(Histogram::ValidateBounds(Histogram::DefaultBounds()).ok());
}

TEST(HistogramTest, ConcurrentObservationsAreExact) {
  Histogram h({10, 100});
  constexpr int kThreads = 8;
  constexpr int kObservations = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < kObservations; ++i) h.Observe(i % 2 == 0 ? 1 : 50);
    });
  }
  for (auto& thread : threads) thread.join();
  const Histogram::Snapshot s = h.Collect();
  constexpr uint64_t kTotal = kThreads * kObservations;
  EXPECT_THAT(s.cumulative_counts, ElementsAre(kTotal / 2, kTotal, kTotal));
  EXPECT_EQ(s.sum, kTotal / 2 * 51.0);
}

}  // namespace
}  // namespace mivla::metrics
