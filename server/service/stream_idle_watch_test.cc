#include "server/service/stream_idle_watch.h"

#include <atomic>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

class CountingStream : public IdleStream {
 public:
  void Hold() override { ++holds_; }
  void Release() override { --holds_; }
  void EndIdle() override { ++ended_; }
  int ended() const { return ended_.load(); }
  int holds() const { return holds_.load(); }

 private:
  std::atomic<int> ended_{0};
  std::atomic<int> holds_{0};
};

// Long enough that no stall of a loaded CI machine between two adjacent calls of a test reaches it.
constexpr absl::Duration kTimeout = absl::Milliseconds(300);

// Waits up to 10 s (a loaded machine) for `s` to be ended and released; true when it was. (The watch's
// thread calls EndIdle, then Release.)
bool EndedWithin10s(const CountingStream& s) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while ((s.ended() == 0 || s.holds() != 0) && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
  return s.ended() > 0 && s.holds() == 0;
}

TEST(StreamIdleWatchTest, AnIdleStreamIsEndedOnceAndReleased) {
  CountingStream s;  // outlives the watch's thread
  auto watch = StreamIdleWatch::Create(kTimeout);
  ASSERT_TRUE(watch.ok()) << watch.status();
  (*watch)->Add(&s);
  ASSERT_TRUE(EndedWithin10s(s));  // and each Hold released
  absl::SleepFor(4 * kTimeout);
  EXPECT_EQ(s.ended(), 1);  // taken off the watch when ended
}

TEST(StreamIdleWatchTest, APausedStreamIsNotIdleUntilTouched) {
  CountingStream s;  // outlives the watch's thread
  auto watch = StreamIdleWatch::Create(kTimeout);
  ASSERT_TRUE(watch.ok()) << watch.status();
  (*watch)->Add(&s);
  (*watch)->Pause(&s);  // a request in the engine
  absl::SleepFor(4 * kTimeout);
  EXPECT_EQ(s.ended(), 0);
  const absl::Time touched = absl::Now();
  (*watch)->Touch(&s);  // answered: the clock runs again
  ASSERT_TRUE(EndedWithin10s(s));
  EXPECT_GE(absl::Now() - touched, kTimeout);
}

TEST(StreamIdleWatchTest, ARemovedStreamIsNeverEnded) {
  CountingStream gone, idle;  // outlive the watch's thread
  auto watch = StreamIdleWatch::Create(kTimeout);
  ASSERT_TRUE(watch.ok()) << watch.status();
  (*watch)->Add(&gone);
  (*watch)->Add(&idle);
  (*watch)->Remove(&gone);
  ASSERT_TRUE(EndedWithin10s(idle));  // the watch ran past the timeout
  EXPECT_EQ(gone.ended(), 0);
}

TEST(StreamIdleWatchTest, ANonPositiveTimeoutIsRefused) {
  EXPECT_FALSE(StreamIdleWatch::Create(absl::ZeroDuration()).ok());
}

}  // namespace
}  // namespace mivla::server
