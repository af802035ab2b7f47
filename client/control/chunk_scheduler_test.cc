// File: chunk_scheduler_test.cc
#include "client/control/chunk_scheduler.h"

#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace mivla::client {
namespace {

constexpr int64_t kPeriod = 40000;

RobotCommand Command(double value) {
  RobotCommand c;
  c.arms.resize(1);
  c.arms[0].joints = kinematics::JointVector::Constant(6, value);
  c.arms[0].gripper = 0.01 * value;
  return c;
}

// `n` steps every kPeriod from `start_us`; step i has joints = value(i).
std::vector<TimedAction> Chunk(int64_t start_us, int n, double first_value, double slope = 0.0) {
  std::vector<TimedAction> steps(n);
  for (int i = 0; i < n; ++i) {
    steps[i].time_us = start_us + i * kPeriod;
    steps[i].command = Command(first_value + slope * i);
  }
  return steps;
}

ChunkSchedulerOptions Opts(BlendMode mode) {
  ChunkSchedulerOptions o;
  o.period_us = kPeriod;
  o.blend = mode;
  return o;
}

TEST(ChunkSchedulerTest, PopsOneActionPerTickInOrder) {
  ChunkScheduler s(Opts(BlendMode::kWeighted));
  s.AddChunk(0, 1, Chunk(1000000, 5, 0.0, 1.0));
  EXPECT_EQ(s.queued(), 5);
  EXPECT_EQ(s.last_queued_time_us(), 1000000 + 4 * kPeriod);
  EXPECT_FALSE(s.Pop(1000000 - kPeriod).has_value());  // nothing due yet, nothing removed
  EXPECT_EQ(s.queued(), 5);
  for (int i = 0; i < 5; ++i) {
    std::optional<TimedAction> a = s.Pop(1000000 + i * kPeriod + 3000);  // a little jitter
    ASSERT_TRUE(a.has_value()) << i;
    EXPECT_EQ(a->time_us, 1000000 + i * kPeriod);
    EXPECT_DOUBLE_EQ(a->command.arms[0].joints[0], i);
    EXPECT_EQ(a->chunk_id, 1u);
  }
  EXPECT_FALSE(s.Pop(1000000 + 5 * kPeriod).has_value());
  EXPECT_EQ(s.last_queued_time_us(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(s.stats().popped, 5);
  EXPECT_EQ(s.stats().skipped, 0);
}

TEST(ChunkSchedulerTest, ExpiredActionsAreSkippedNeverExecutedLate) {
  ChunkScheduler s(Opts(BlendMode::kWeighted));
  s.AddChunk(0, 1, Chunk(0, 10, 0.0, 1.0));
  // The loop stalls for three ticks: actions 0-2 expire, action 3 is the one for now.
  std::optional<TimedAction> a = s.Pop(3 * kPeriod + 5000);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->time_us, 3 * kPeriod);
  EXPECT_EQ(s.stats().skipped, 3);
  // Exactly on the tolerance edge still counts; one microsecond beyond does not.
  std::optional<TimedAction> edge = s.Pop(4 * kPeriod + kPeriod / 2);
  ASSERT_TRUE(edge.has_value());
  EXPECT_EQ(edge->time_us, 4 * kPeriod);
  std::optional<TimedAction> beyond = s.Pop(5 * kPeriod + kPeriod / 2 + 1);
  ASSERT_TRUE(beyond.has_value());
  EXPECT_EQ(beyond->time_us, 6 * kPeriod);  // action 5 is 1 us too old: skipped, 6 is near enough
  EXPECT_EQ(s.stats().skipped, 4);
}

TEST(ChunkSchedulerTest, LateStepsAreDropped) {
  ChunkScheduler s(Opts(BlendMode::kWeighted));
  const int64_t now = 10 * kPeriod;
  // Steps at 7..16 periods: 7, 8 and 9 are earlier than now - tolerance... 9 is 1 period old: late.
  s.AddChunk(now, 1, Chunk(7 * kPeriod, 10, 0.0, 1.0));
  EXPECT_EQ(s.stats().dropped_late, 3);
  EXPECT_EQ(s.queued(), 7);
  std::optional<TimedAction> a = s.Pop(now);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->time_us, now);
  // A new chunk that starts at the executed time: that step is dropped even though it is not
  // older than now - tolerance (never execute a tick twice).
  s.AddChunk(now + 1000, 2, Chunk(now, 3, 100.0));
  EXPECT_EQ(s.stats().dropped_late, 4);
  std::optional<TimedAction> b = s.Pop(now + kPeriod);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->time_us, now + kPeriod);
}

TEST(ChunkSchedulerTest, LatestOnlyReplacesOverlap) {
  ChunkScheduler s(Opts(BlendMode::kLatestOnly));
  s.AddChunk(0, 1, Chunk(0, 10, 1.0));
  s.AddChunk(0, 2, Chunk(5 * kPeriod, 10, 2.0));
  EXPECT_EQ(s.stats().blended, 5);
  EXPECT_EQ(s.queued(), 15);
  for (int i = 0; i < 15; ++i) {
    std::optional<TimedAction> a = s.Pop(i * kPeriod);
    ASSERT_TRUE(a.has_value());
    const double want = i < 5 ? 1.0 : 2.0;
    EXPECT_DOUBLE_EQ(a->command.arms[0].joints[3], want) << i;
    EXPECT_DOUBLE_EQ(a->command.arms[0].gripper, 0.01 * want) << i;
    EXPECT_EQ(a->chunk_id, i < 5 ? 1u : 2u);
  }
}

TEST(ChunkSchedulerTest, WeightedBlendsOverlapAndKeepsTheQueuedTime) {
  ChunkSchedulerOptions o = Opts(BlendMode::kWeighted);
  o.new_weight = 0.7;
  ChunkScheduler s(o);
  s.AddChunk(0, 1, Chunk(0, 10, 1.0));
  // The second chunk's grid is 10 ms off the first one's: still the same ticks (tolerance 20 ms).
  s.AddChunk(0, 2, Chunk(5 * kPeriod + 10000, 10, 2.0));
  EXPECT_EQ(s.stats().blended, 5);
  for (int i = 0; i < 15; ++i) {
    std::optional<TimedAction> a = s.Pop(i * kPeriod + (i >= 10 ? 10000 : 0));
    ASSERT_TRUE(a.has_value()) << i;
    const double want = i < 5 ? 1.0 : (i < 10 ? 0.7 * 2.0 + 0.3 * 1.0 : 2.0);
    EXPECT_NEAR(a->command.arms[0].joints[0], want, 1e-12) << i;
    EXPECT_NEAR(a->command.arms[0].gripper, 0.01 * want, 1e-12) << i;
    EXPECT_EQ(a->time_us, i * kPeriod + (i >= 10 ? 10000 : 0)) << i;
  }
}

TEST(ChunkSchedulerTest, ShapeMismatchTakesTheNewAction) {
  ChunkScheduler s(Opts(BlendMode::kWeighted));
  s.AddChunk(0, 1, Chunk(0, 2, 1.0));
  std::vector<TimedAction> two_arms = Chunk(0, 2, 2.0);
  for (TimedAction& t : two_arms) t.command.arms.push_back(t.command.arms[0]);
  s.AddChunk(0, 2, two_arms);
  std::optional<TimedAction> a = s.Pop(0);
  ASSERT_TRUE(a.has_value());
  ASSERT_EQ(a->command.arms.size(), 2u);
  EXPECT_DOUBLE_EQ(a->command.arms[0].joints[0], 2.0);
}

TEST(ChunkSchedulerTest, RefillThreshold) {
  ChunkSchedulerOptions o = Opts(BlendMode::kWeighted);
  o.refill_threshold = 0.5;
  ChunkScheduler s(o);
  EXPECT_TRUE(s.NeedsRefill(0));  // before any chunk
  s.AddChunk(0, 1, Chunk(0, 10, 0.0));
  for (int i = 0; i < 10; ++i) {
    // Before the pop at tick i, 10 - i actions are left (at or after now).
    EXPECT_EQ(s.NeedsRefill(i * kPeriod), 10 - i <= 5) << i;
    ASSERT_TRUE(s.Pop(i * kPeriod).has_value());
  }
  EXPECT_TRUE(s.NeedsRefill(10 * kPeriod));
  // Expired actions do not count as left.
  s.AddChunk(10 * kPeriod, 2, Chunk(10 * kPeriod, 10, 0.0));
  EXPECT_FALSE(s.NeedsRefill(10 * kPeriod));
  EXPECT_TRUE(s.NeedsRefill(15 * kPeriod));
  s.Clear();
  EXPECT_EQ(s.queued(), 0);
  EXPECT_TRUE(s.NeedsRefill(15 * kPeriod));
  EXPECT_EQ(s.last_executed_time_us(), std::numeric_limits<int64_t>::min());
}

// A control loop on a fake clock with jittered ticks, chunks that arrive after a random round trip
// and are stamped from the observation time: every executed action is within tolerance of its tick,
// no action time is executed twice, and times only move forward.
TEST(ChunkSchedulerTest, FakeClockLoopNeverLateNeverTwice) {
  for (BlendMode mode : {BlendMode::kLatestOnly, BlendMode::kWeighted}) {
    ChunkScheduler s(Opts(mode));
    std::mt19937 rng(7);
    std::uniform_int_distribution<int64_t> jitter(-4000, 4000);
    std::uniform_int_distribution<int64_t> rtt(30000, 250000);
    const int kChunk = 16;
    std::set<int64_t> executed;
    int64_t last_time = std::numeric_limits<int64_t>::min();
    int64_t pending_arrival = -1, pending_obs = 0;
    uint64_t id = 0;
    int served = 0;
    const int kTicks = 2000;
    for (int tick = 0; tick < kTicks; ++tick) {
      const int64_t now = tick * kPeriod + jitter(rng);
      if (pending_arrival >= 0 && now >= pending_arrival) {
        // As the server stamps them (server/inference/chunk_builder.cc): step h at the observation's
        // time + h periods, so step 0 is the observation time itself (off the tick grid by its jitter).
        const int64_t first = pending_obs;
        ++id;
        s.AddChunk(now, id, Chunk(first, kChunk, static_cast<double>(id)));
        pending_arrival = -1;
      }
      if (pending_arrival < 0 && s.NeedsRefill(now)) {
        pending_obs = now;
        pending_arrival = now + rtt(rng);
      }
      std::optional<TimedAction> a = s.Pop(now);
      if (!a.has_value()) continue;
      ++served;
      EXPECT_LE(std::llabs(a->time_us - now), kPeriod / 2) << "late or early at tick " << tick;
      EXPECT_TRUE(executed.insert(a->time_us).second) << "executed twice: " << a->time_us;
      EXPECT_GT(a->time_us, last_time);
      last_time = a->time_us;
    }
    // With 16-step chunks (640 ms) asked for at half and round trips up to 250 ms, almost every
    // tick after the first chunk is served.
    EXPECT_GT(served, kTicks * 9 / 10) << BlendModeName(mode);
    EXPECT_EQ(s.stats().popped, served);
  }
}

// Real-time chunking: the robot observes at tick 10 (its action for that tick already executed) and
// commits to its next steps; the new chunk (observation at tick 10) arrives after 3 ticks and is spliced
// in after the d = 3 committed steps of ticks 10, 11, 12: ticks 13 on come from the new chunk, each tick
// gets exactly one action, none replayed, none skipped, nothing blended.
TEST(ChunkSchedulerTest, SpliceAfterTheCommittedSteps) {
  ChunkScheduler s(Opts(BlendMode::kWeighted));
  const int64_t t0 = 1000000;
  std::vector<TimedAction> first = Chunk(t0, 16, 0.0, 1.0);
  for (TimedAction& a : first) {
    a.has_unified = true;
    a.unified.fill(static_cast<float>(a.command.arms[0].joints[0]));
  }
  s.AddChunk(t0, 1, first);
  for (int k = 0; k <= 10; ++k) ASSERT_TRUE(s.Pop(t0 + k * kPeriod).has_value());
  const int64_t obs = t0 + 10 * kPeriod + 2000;  // a little jitter
  std::vector<TimedAction> plan = s.Plan(obs, 8);
  ASSERT_EQ(plan.size(), 6u) << "ticks 10 (executed) .. 15: the rest of the chunk";
  EXPECT_EQ(plan[0].time_us, t0 + 10 * kPeriod);
  EXPECT_EQ(plan[5].time_us, t0 + 15 * kPeriod);
  EXPECT_TRUE(plan[0].has_unified);
  EXPECT_EQ(plan[1].unified[0], 11.0f);
  EXPECT_EQ(s.Plan(obs, 2).size(), 2u);
  // Ticks 11 and 12 run on the old chunk while the request is served.
  for (int k = 11; k <= 12; ++k) EXPECT_EQ(s.Pop(t0 + k * kPeriod)->command.arms[0].joints[0], k);
  // The new chunk: 16 steps from the observation, values 100 + i.
  s.SpliceChunk(t0 + 12 * kPeriod + 30000, 2, Chunk(obs, 16, 100.0, 1.0), obs + 3 * kPeriod);
  EXPECT_EQ(s.stats().spliced, 1);
  EXPECT_EQ(s.stats().spliced_out, 3) << "the new chunk's steps for ticks 10..12";
  EXPECT_EQ(s.stats().blended, 0);
  for (int k = 13; k < 26; ++k) {
    std::optional<TimedAction> a = s.Pop(t0 + k * kPeriod);
    ASSERT_TRUE(a.has_value()) << k;
    EXPECT_EQ(a->chunk_id, 2u);
    EXPECT_EQ(a->command.arms[0].joints[0], 100.0 + (k - 10)) << "tick " << k << ": new step " << k - 10;
  }
  EXPECT_EQ(s.stats().skipped, 0);
  EXPECT_EQ(s.stats().dropped_late, 0);
  EXPECT_EQ(s.queued(), 0);
}

// A chunk that arrives later than the robot estimated: the committed steps ran out at tick 12, the robot
// went on with the old chunk at tick 13; the new chunk's step for tick 13 is late (dropped), tick 14 on
// come from it.
TEST(ChunkSchedulerTest, LateSpliceDropsOnlyStepsWhoseTickPassed) {
  ChunkScheduler s(Opts(BlendMode::kWeighted));
  const int64_t t0 = 0;
  s.AddChunk(t0, 1, Chunk(t0, 16, 0.0, 1.0));
  for (int k = 0; k <= 13; ++k) ASSERT_TRUE(s.Pop(t0 + k * kPeriod).has_value());
  s.SpliceChunk(t0 + 13 * kPeriod + 1000, 2, Chunk(t0 + 10 * kPeriod, 16, 100.0, 1.0), t0 + 13 * kPeriod);
  EXPECT_EQ(s.stats().spliced_out, 3);
  EXPECT_EQ(s.stats().dropped_late, 1) << "tick 13 ran on the old chunk";
  std::optional<TimedAction> a = s.Pop(t0 + 14 * kPeriod);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->command.arms[0].joints[0], 104.0);
}

}  // namespace
}  // namespace mivla::client
