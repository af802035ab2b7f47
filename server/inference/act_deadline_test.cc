// ComputeActDeadline with made-up times (issue 12 item 2): explicit deadline_us, the last chunk's end,
// robots already out of actions, simulated clocks, the gRPC deadline, and no chunk yet.
#include "server/inference/act_deadline.h"

#include "gtest/gtest.h"

namespace mivla::server {
namespace {

const absl::Time kT0 = absl::UnixEpoch() + absl::Hours(5);
absl::Time At(int ms) { return kT0 + absl::Milliseconds(ms); }

// An observation taken at robot time 10 s that arrived at server time 0.
EncodedObservation Obs(int64_t robot_us = 10'000'000, absl::Time received = At(0)) {
  EncodedObservation o;
  o.id = 2;
  o.timestamp_us = robot_us;
  o.received = received;
  return o;
}

// The chunk sent on an observation 400 ms earlier (robot 9.6 s, server -400 ms), ending at robot 10.5 s.
SentChunk Chunk(int64_t end_us = 10'500'000, int64_t obs_us = 9'600'000, absl::Time received = At(-400)) {
  SentChunk c;
  c.observation_id = 1;
  c.end_us = end_us;
  c.observation_time_us = obs_us;
  c.observation_received = received;
  return c;
}

constexpr absl::Duration kHorizon = absl::Milliseconds(1600);
const absl::Time kNoRpcDeadline = absl::InfiniteFuture();

TEST(ActDeadlineTest, LastChunkEndMapsOntoTheServerClock) {
  const ActDeadline d = ComputeActDeadline(At(20), kNoRpcDeadline, Obs(), 0, Chunk(), kHorizon, true);
  EXPECT_EQ(d.run_out, At(500)) << "robot 10.5 s is 500 ms after the observation";
  EXPECT_EQ(d.urgency, At(500));
  EXPECT_EQ(d.drop, At(500)) << "--drop-on-chunk-end, real-time clock: work is dropped past the run-out";
  EXPECT_EQ(d.late_after, At(500));
  const ActDeadline e = ComputeActDeadline(At(20), kNoRpcDeadline, Obs(), 0, Chunk(), kHorizon);
  EXPECT_EQ(e.urgency, At(500));
  EXPECT_EQ(e.drop, absl::InfiniteFuture()) << "by default a derived run-out only orders";
  EXPECT_EQ(e.late_after, absl::InfiniteFuture()) << "nor does missing it make the Act late";
}

TEST(ActDeadlineTest, ExplicitDeadlineWinsOverTheChunk) {
  const ActDeadline d = ComputeActDeadline(At(20), kNoRpcDeadline, Obs(), 10'080'000, Chunk(), kHorizon);
  EXPECT_EQ(d.run_out, At(80));
  EXPECT_EQ(d.urgency, At(80));
  EXPECT_EQ(d.drop, At(80));
  EXPECT_EQ(d.late_after, At(80));
}

TEST(ActDeadlineTest, RobotAlreadyOutOfActionsGoesFirstAndIsNeverDroppedForIt) {
  // The chunk ended at robot 9.9 s, before this observation (10 s).
  const ActDeadline d = ComputeActDeadline(At(20), kNoRpcDeadline, Obs(), 0, Chunk(9'900'000), kHorizon, true);
  EXPECT_EQ(d.urgency, At(-100));
  EXPECT_EQ(d.drop, absl::InfiniteFuture());
  // Same with an explicit deadline that had passed when the Act arrived.
  const ActDeadline e = ComputeActDeadline(At(20), kNoRpcDeadline, Obs(), 10'010'000, std::nullopt, kHorizon);
  EXPECT_EQ(e.urgency, At(10));
  EXPECT_EQ(e.drop, absl::InfiniteFuture());
  EXPECT_EQ(e.late_after, absl::InfiniteFuture()) << "never late: the robot was out of actions when it asked";
}

TEST(ActDeadlineTest, SimulatedClockOrdersButNeverDrops) {
  // Robot time moved 400 ms while the server's moved 5 s (the simulation paused while it waited).
  const ActDeadline d =
      ComputeActDeadline(At(20), kNoRpcDeadline, Obs(), 0, Chunk(10'500'000, 9'600'000, At(-5000)), kHorizon, true);
  EXPECT_EQ(d.urgency, At(500));
  EXPECT_EQ(d.drop, absl::InfiniteFuture());
  EXPECT_EQ(d.late_after, absl::InfiniteFuture());
  EXPECT_TRUE(ClockRunsAtServerPace(0, At(0), 1'030'000, At(1000)));
  EXPECT_FALSE(ClockRunsAtServerPace(0, At(0), 1'300'000, At(1000)));
  EXPECT_TRUE(ClockRunsAtServerPace(0, At(0), 40'000, At(0))) << "50 ms slack on short gaps";
  EXPECT_FALSE(ClockRunsAtServerPace(0, absl::InfinitePast(), 0, At(0))) << "arrival unknown";
}

TEST(ActDeadlineTest, NoChunkYetOrdersOneHorizonAfterArrival) {
  const ActDeadline d = ComputeActDeadline(At(20), kNoRpcDeadline, Obs(), 0, std::nullopt, kHorizon);
  EXPECT_EQ(d.run_out, absl::InfiniteFuture());
  EXPECT_EQ(d.urgency, At(1620));
  EXPECT_EQ(d.drop, absl::InfiniteFuture());
}

TEST(ActDeadlineTest, TheGrpcDeadlineBoundsBoth) {
  const ActDeadline d = ComputeActDeadline(At(20), At(100), Obs(), 0, Chunk(), kHorizon, true);
  EXPECT_EQ(d.urgency, At(100));
  EXPECT_EQ(d.drop, At(100));
  const ActDeadline e = ComputeActDeadline(At(20), At(100), Obs(), 0, std::nullopt, kHorizon);
  EXPECT_EQ(e.drop, At(100));
}

}  // namespace
}  // namespace mivla::server
