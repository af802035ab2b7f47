#include "bench/server_bench_paired.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/service/service_test_util.h"

namespace mivla::bench {
namespace {

using ::testing::HasSubstr;

// A server on the fake runtime (1 ms a batch of encode, 2 ms of decode) and a "bare model" whose calls
// take the times listed, in turn.
class PairedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<server::testing::LoopbackServer> s =
        server::testing::StartLoopback(server::testing::LoopbackOptions());
    ASSERT_TRUE(s.ok()) << s.status();
    loopback_ = *std::move(s);
  }
  PairedOptions Options(int rounds, int per_round, int warmup) const {
    PairedOptions o;
    o.port = loopback_.server->port();
    o.rounds = rounds;
    o.per_round = per_round;
    o.warmup = warmup;
    return o;
  }
  BareCallFn Bare(std::vector<double> times) {
    return [this, times]() -> absl::StatusOr<BareCall> {
      const double t = times[calls_++ % times.size()];
      return BareCall{t, 0.25 * t, 0.75 * t};
    };
  }
  server::testing::LoopbackServer loopback_;
  size_t calls_ = 0;
};

TEST_F(PairedTest, AlternatesTurnsAndReadsTheRatioOfMedians) {
  const PairedOptions o = Options(/*rounds=*/3, /*per_round=*/4, /*warmup=*/2);
  // Warm-up 50 (not counted); then rounds of 10, 10, 10, 40 ms: p50 10 over all, each round's p50 10.
  std::vector<double> times = {50, 50, 10, 10, 10, 40, 10, 10, 10, 40, 10, 10, 10, 40};
  absl::StatusOr<nlohmann::json> j = RunPaired(o, Bare(times));
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(calls_, 2u + 3u * 4u) << "warm-up, then per_round bare calls a round";
  EXPECT_DOUBLE_EQ((*j)["bare_p50_ms"].get<double>(), 10.0);
  const double server_p50 = (*j)["server_p50_ms"].get<double>();
  EXPECT_GE(server_p50, 3.0) << "the fake runtime sleeps 1 + 2 ms a pair";
  EXPECT_LT(server_p50, 10'000.0);
  EXPECT_DOUBLE_EQ((*j)["ratio"].get<double>(), server_p50 / 10.0);
  ASSERT_EQ((*j)["round_ratios"].size(), 3u);
  EXPECT_GT((*j)["round_ratio_median"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ((*j)["bare_spread"]["min_over_median"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ((*j)["bare_spread"]["max_over_median"].get<double>(), 1.0);
  // Means of the counted calls only (the warm-up's 50 ms do not count): (3 x 10 + 40) / 4 = 17.5.
  const nlohmann::json& m = (*j)["means_ms"];
  EXPECT_DOUBLE_EQ(m["bare"]["total"].get<double>(), 17.5);
  EXPECT_DOUBLE_EQ(m["bare"]["sampler"].get<double>(), 0.75 * 17.5);
  const nlohmann::json& r = m["robot"];
  EXPECT_GE(r["decode"].get<double>(), 2.0) << "the fake runtime's decode sleeps 2 ms";
  EXPECT_NEAR(r["round_trip"].get<double>(),
              r["observe_total"].get<double>() + r["act_total"].get<double>() + r["outside_server"].get<double>(),
              1e-9);
  EXPECT_GT(r["outside_server"].get<double>(), 0.0);
}

TEST_F(PairedTest, TurnsAlternate) {
  const PairedOptions o = Options(/*rounds=*/3, /*per_round=*/4, /*warmup=*/2);
  std::vector<int64_t> acts_seen;  // at each bare call
  const BareCallFn bare = [&]() -> absl::StatusOr<BareCall> {
    acts_seen.push_back(server::testing::ActsAnswered(*loopback_.server));
    return BareCall{10, 2, 8};
  };
  ASSERT_TRUE(RunPaired(o, bare).ok());
  ASSERT_EQ(acts_seen.size(), 2u + 3u * 4u);
  for (size_t i = 0; i < acts_seen.size(); ++i) {
    // Bare call i comes after the robot's warm-up and after every pair of the rounds up to its own; the
    // server may count the last Act just after the robot has its answer.
    const int64_t want = i < 2 ? 2 : 2 + 4 * static_cast<int64_t>((i - 2) / 4 + 1);
    EXPECT_LE(acts_seen[i], want) << "bare call " << i;
    EXPECT_GE(acts_seen[i], want - 1) << "bare call " << i;
  }
}

TEST_F(PairedTest, TheBareModelsErrorStopsTheRow) {
  const PairedOptions o = Options(/*rounds=*/2, /*per_round=*/2, /*warmup=*/0);
  absl::StatusOr<nlohmann::json> j = RunPaired(o, [&]() -> absl::StatusOr<BareCall> {
    if (++calls_ == 3) return absl::InternalError("bare decode produced non-finite actions");
    return BareCall{10, 2, 8};
  });
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(j.status().message(), HasSubstr("paired row, bare model: bare decode produced non-finite"));
}

TEST(PairedOptionsTest, RejectsEmptyRoundsAndAnAbsentServer) {
  PairedOptions o;
  o.rounds = 0;
  const BareCallFn bare = [] { return absl::StatusOr<BareCall>(BareCall{1, 0.5, 0.5}); };
  absl::StatusOr<nlohmann::json> j = RunPaired(o, bare);
  EXPECT_EQ(j.status().code(), absl::StatusCode::kInvalidArgument);
  o.rounds = 1;
  o.port = 1;  // nothing listens there
  o.call_timeout_s = 2;
  j = RunPaired(o, bare);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), absl::StatusCode::kUnavailable) << "gRPC's code for a refused connection";
  EXPECT_THAT(j.status().message(), HasSubstr("StartSession"));
}

}  // namespace
}  // namespace mivla::bench
