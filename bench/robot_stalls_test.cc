// File: robot_stalls_test.cc
// StallClock with made-up times: a chunk in time adds nothing, a late one adds its wait, a chunk whose
// steps have all passed does not end the stall, the window clips, and a robot that stops without actions
// counts the rest of the window.
#include "bench/robot_stalls.h"

#include "gtest/gtest.h"

namespace mivla::bench {
namespace {

using Clock = StallClock::Clock;
const Clock::time_point kT0{};  // the fake clock's origin
Clock::time_point At(int ms) { return kT0 + std::chrono::milliseconds(ms); }

TEST(StallClockTest, CountsLateChunksAndKeepsAStallOpenUntilStepsAhead) {
  StallClock stalls(At(1000), At(7000));
  stalls.OnChunk(At(1200), At(1100), At(1420));  // in time: the robot never ran out
  EXPECT_DOUBLE_EQ(stalls.total_s(), 0.0);
  stalls.OnChunk(At(1420), At(1520), At(1740));  // 100 ms late, steps ahead
  EXPECT_NEAR(stalls.total_s(), 0.100, 1e-9);
  EXPECT_NEAR(stalls.longest_s(), 0.100, 1e-9);
  stalls.OnChunk(At(1740), At(2140), At(2140));  // 400 ms late and every step passed: still without actions
  stalls.OnChunk(At(2140), At(2240), At(2400));  // the next one ends the stall: 500 ms in one piece
  EXPECT_NEAR(stalls.total_s(), 0.600, 1e-9);
  EXPECT_NEAR(stalls.longest_s(), 0.500, 1e-9);
}

TEST(StallClockTest, ClipsToTheWindowAndCountsAnOpenStallAtTheEnd) {
  StallClock stalls(At(1000), At(2000));
  stalls.OnChunk(At(0), At(1300), At(1500));  // no actions since 0 ms: only 1000-1300 counts
  EXPECT_NEAR(stalls.total_s(), 0.300, 1e-9);
  stalls.Close(At(1500));  // stopped at 1500 ms without a next chunk: 500 ms more, in one stall
  EXPECT_NEAR(stalls.total_s(), 0.800, 1e-9);
  EXPECT_NEAR(stalls.longest_s(), 0.500, 1e-9);

  StallClock late(At(1000), At(2000));
  late.OnChunk(At(1500), At(2500), At(2500));  // stalled from 1500 ms; its chunk comes after the window, stale
  late.Close(At(2500));
  EXPECT_NEAR(late.total_s(), 0.500, 1e-9);
  EXPECT_NEAR(late.longest_s(), 0.500, 1e-9) << "the open stall counts up to the window's end, once";

  StallClock fed(At(1000), At(2000));
  fed.OnChunk(At(900), At(950), At(2500));  // before the window: nothing
  fed.Close(At(2500));                      // actions past the window's end: nothing
  EXPECT_DOUBLE_EQ(fed.total_s(), 0.0);
  EXPECT_DOUBLE_EQ(fed.longest_s(), 0.0);
}

}  // namespace
}  // namespace mivla::bench
