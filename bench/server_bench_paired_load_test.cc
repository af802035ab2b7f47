#include "bench/server_bench_paired_load.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/server_bench_load.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/service/service_test_util.h"

namespace mivla::bench {
namespace {

using ::testing::HasSubstr;

// A loopback server on the fake runtime whose decode takes `decode_ms` a batch whatever its size, batching
// up to `max_batch` in both stages.
server::testing::LoopbackServer StartFake(int max_batch, int decode_ms) {
  server::FakeRuntimeOptions fake = server::testing::LoopbackFake();
  fake.decode_latency = absl::Milliseconds(decode_ms);
  server::ServerOptions options = server::testing::LoopbackOptions(fake);
  options.encode.max_batch_size = max_batch;
  options.decode.max_batch_size = max_batch;
  absl::StatusOr<server::testing::LoopbackServer> s = server::testing::StartLoopback(std::move(options));
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : server::testing::LoopbackServer();
}

PairedLoadOptions Options(int batched_port, int unbatched_port) {
  PairedLoadOptions o;
  o.batched_port = batched_port;
  o.unbatched_port = unbatched_port;
  o.sessions = 4;
  o.rounds = 2;
  o.warmup_s = 0.2;
  o.window_s = 1.0;
  o.bare_singles = 3;
  o.embodiments = {action::Embodiment::kPiper, action::Embodiment::kArx5};
  return o;
}

TEST(PairedLoadTest, BothServersTakeATurnEachRoundAndTheBoundComesFromTheBareCalls) {
  server::testing::LoopbackServer batched = StartFake(/*max_batch=*/16, /*decode_ms=*/20);
  server::testing::LoopbackServer unbatched = StartFake(/*max_batch=*/1, /*decode_ms=*/20);
  ASSERT_NE(batched.server, nullptr);
  ASSERT_NE(unbatched.server, nullptr);
  struct Seen {
    int batch;
    int64_t batched_acts, unbatched_acts;
  };
  std::vector<Seen> seen;
  // Three single calls and one batch a round. Singles: one slow call of three in each round, so the
  // median (10) differs from the mean; batches 20, 30, 70 ms: the rounds' bounds 4 x 10 / 20, / 30, / 70
  // and the pooled one 4 x 10 / 30 (the median batch; their mean, 40, would give 1).
  const std::vector<double> singles = {10, 50, 10, 10, 10, 50, 50, 10, 10};
  const std::vector<double> batches = {20, 30, 70};
  size_t single = 0, batch_call = 0;
  const BareBatchMsFn bare = [&](int batch, int) -> absl::StatusOr<double> {
    seen.push_back(
        {batch, server::testing::ActsAnswered(*batched.server), server::testing::ActsAnswered(*unbatched.server)});
    return batch == 1 ? singles[single++ % singles.size()] : batches[batch_call++ % batches.size()];
  };
  PairedLoadOptions o = Options(batched.server->port(), unbatched.server->port());
  o.rounds = 3;
  o.window_s = 0.6;
  absl::StatusOr<nlohmann::json> j = RunPairedLoad(o, bare);
  ASSERT_TRUE(j.ok()) << j.status();
  // Each round: three single calls, then one batch of `sessions`, after both servers' turns.
  ASSERT_EQ(seen.size(), 3u * 4u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].batch, i % 4 == 3 ? 4 : 1) << "bare call " << i;
  for (size_t round = 0; round < 3; ++round) {
    const Seen& first = seen[4 * round];
    const int64_t batched_before = round == 0 ? 0 : seen[4 * round - 1].batched_acts;
    const int64_t unbatched_before = round == 0 ? 0 : seen[4 * round - 1].unbatched_acts;
    EXPECT_GT(first.batched_acts, batched_before) << "round " << round << ": the batched server's turn";
    EXPECT_GT(first.unbatched_acts, unbatched_before) << "round " << round << ": the unbatched server's turn";
  }
  ASSERT_EQ((*j)["round_bounds"].size(), 3u);
  EXPECT_DOUBLE_EQ((*j)["round_bounds"][0].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ((*j)["round_bounds"][1].get<double>(), 40.0 / 30.0);
  EXPECT_DOUBLE_EQ((*j)["round_bounds"][2].get<double>(), 40.0 / 70.0);
  EXPECT_DOUBLE_EQ((*j)["model_bound"].get<double>(), 40.0 / 30.0);
  // A 20 ms decode whatever the batch: four robots in one batch go far faster than one at a time.
  const double on = (*j)["batched_chunks_per_s"].get<double>();
  const double off = (*j)["unbatched_chunks_per_s"].get<double>();
  EXPECT_GT(off, 0);
  EXPECT_DOUBLE_EQ((*j)["ratio"].get<double>(), on / off);
  EXPECT_GT(on / off, 1.5);
  EXPECT_DOUBLE_EQ((*j)["ratio_over_bound"].get<double>(), on / off / (40.0 / 30.0));
  ASSERT_EQ((*j)["round_ratios"].size(), 3u);
  EXPECT_EQ((*j)["estimator"], "paced");
  EXPECT_GT((*j)["decode_batch_mean"].get<double>(), 1.5);
  EXPECT_EQ((*j)["failed_calls"].get<int64_t>(), 0);
}

TEST(PairedLoadTest, ATurnTooShortForASessionsPaceFallsBackToTheWindowsCount) {
  server::testing::LoopbackServer slow = StartFake(/*max_batch=*/1, /*decode_ms=*/300);
  ASSERT_NE(slow.server, nullptr);
  PairedLoadOptions o = Options(slow.server->port(), slow.server->port());
  o.sessions = 1;
  o.rounds = 1;
  o.warmup_s = 0;
  o.window_s = 0.05;  // held open for one pair; a second would take another 300 ms
  absl::StatusOr<nlohmann::json> j = RunPairedLoad(o, [](int, int) { return absl::StatusOr<double>(10.0); });
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)["estimator"], "window");
  EXPECT_GT((*j)["batched_chunks_per_s"].get<double>(), 0) << "one pair over the window it held open";
  EXPECT_GT((*j)["unbatched_chunks_per_s"].get<double>(), 0);
}

TEST(PairedLoadTest, TheBareModelsErrorStopsTheRow) {
  server::testing::LoopbackServer a = StartFake(16, 2);
  ASSERT_NE(a.server, nullptr);
  PairedLoadOptions o = Options(a.server->port(), a.server->port());
  o.rounds = 1;
  o.window_s = 0.2;
  absl::StatusOr<nlohmann::json> j = RunPairedLoad(o, [](int batch, int) -> absl::StatusOr<double> {
    if (batch > 1) return absl::InternalError("bare decode produced non-finite actions");
    return 10.0;
  });
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(j.status().message(), HasSubstr("paired load row, bare model: bare decode produced non-finite"));
}

TEST(PairedLoadTest, RejectsBadOptionsAndAnAbsentServer) {
  const BareBatchMsFn bare = [](int, int) { return absl::StatusOr<double>(1.0); };
  PairedLoadOptions o = Options(1, 1);  // nothing listens on port 1
  o.rounds = 0;
  EXPECT_EQ(RunPairedLoad(o, bare).status().code(), absl::StatusCode::kInvalidArgument);
  o.rounds = 1;
  o.embodiments.clear();
  EXPECT_EQ(RunPairedLoad(o, bare).status().code(), absl::StatusCode::kInvalidArgument);
  o.embodiments = {action::Embodiment::kPiper};
  o.call_timeout_s = 2;
  absl::StatusOr<nlohmann::json> j = RunPairedLoad(o, bare);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(j.status().message(), HasSubstr("paired load row, batched: no session could be started"));
}

TEST(SessionPaceTest, CountsThePairsAfterTheFirstOverTheirSpan) {
  using std::chrono::milliseconds;
  const std::chrono::steady_clock::time_point t0{};
  SessionPace pace;
  EXPECT_EQ(pace.PerSecond(), 0);
  pace.Add(t0 + milliseconds(1000));
  EXPECT_EQ(pace.PerSecond(), 0) << "one pair has no span";
  for (int k = 1; k <= 4; ++k) pace.Add(t0 + milliseconds(1000 + 100 * k));
  EXPECT_DOUBLE_EQ(pace.PerSecond(), 10.0) << "four intervals of 100 ms after the first pair";
  SessionPace same;
  same.Add(t0);
  same.Add(t0);
  EXPECT_EQ(same.PerSecond(), 0) << "no time between them";
}

// LoadResult::paced_chunks_per_s: each session's own rate, near the window's count on a steady load, and 0
// when a session ends fewer than two pairs in the window.
TEST(PacedRateTest, AgreesWithTheWindowsCountAndNeedsTwoPairsASession) {
  server::testing::LoopbackServer s = StartFake(/*max_batch=*/1, /*decode_ms=*/10);
  ASSERT_NE(s.server, nullptr);
  LoadOptions o;
  o.port = s.server->port();
  o.sessions = 2;
  o.warmup_s = 0.2;
  o.duration_s = 1.5;
  o.embodiments = {action::Embodiment::kPiper};
  absl::StatusOr<LoadResult> r = RunLoad(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->paced_chunks_per_s, 0.75 * r->chunks_per_s);
  EXPECT_LT(r->paced_chunks_per_s, 1.25 * r->chunks_per_s);

  server::testing::LoopbackServer slow = StartFake(1, /*decode_ms=*/300);
  ASSERT_NE(slow.server, nullptr);
  o.port = slow.server->port();
  o.sessions = 1;
  o.warmup_s = 0;
  o.duration_s = 0.05;  // held open for the one pair it needs; a second would take another 300 ms
  r = RunLoad(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->completed, 1);
  EXPECT_EQ(r->paced_chunks_per_s, 0);
}

}  // namespace
}  // namespace mivla::bench
