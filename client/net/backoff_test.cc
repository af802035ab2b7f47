// File: backoff_test.cc
#include "client/net/backoff.h"

#include "gtest/gtest.h"

namespace mivla::client {
namespace {

TEST(BackoffTest, GrowsExponentiallyUpToTheCapAndResets) {
  Backoff b({/*initial_ms=*/100, /*max_ms=*/1000, /*multiplier=*/2.0});
  EXPECT_EQ(b.NextDelayMs(), 100);
  const int64_t second = b.NextDelayMs();
  EXPECT_GE(second, 200);
  EXPECT_LE(second, 201);
  int64_t last = 0;
  for (int i = 0; i < 10; ++i) last = b.NextDelayMs();
  EXPECT_EQ(last, 1000);
  EXPECT_EQ(b.attempts(), 12);
  b.Reset();
  EXPECT_EQ(b.NextDelayMs(), 100);
  EXPECT_EQ(b.attempts(), 1);
}

TEST(BackoffTest, NeverDecreasesBeforeReset) {
  Backoff b({7, 500, 1.5});
  int64_t prev = 0;
  for (int i = 0; i < 40; ++i) {
    const int64_t d = b.NextDelayMs();
    EXPECT_GE(d, prev);
    EXPECT_LE(d, 500);
    prev = d;
  }
}

}  // namespace
}  // namespace mivla::client
