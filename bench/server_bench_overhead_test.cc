// File: server_bench_overhead_test.cc
// The one-robot overhead rows' runtimes and JSON: the zero-cost runtime takes the config's shapes and no
// time, the sleeping one the same shapes with the given times (refusing impossible ones), and the idle
// row's JSON subtracts the sleeps from the p50.
#include "bench/server_bench_overhead.h"

#include <cmath>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace mivla::bench {
namespace {

TEST(ServerBenchOverheadTest, ZeroCostRuntimeHasTheConfigsShapesAndNoLatency) {
  absl::StatusOr<server::FakeRuntimeOptions> f = ZeroCostRuntime("tiny");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->config_name, "tiny");
  EXPECT_EQ(f->action_horizon, 16);
  EXPECT_EQ(f->sampling_steps, 5);
  EXPECT_EQ(f->image_size, 64);  // SigLIP's 64 px, the larger of tiny's two encoders
  EXPECT_EQ(f->encode_latency, absl::ZeroDuration());
  EXPECT_EQ(f->decode_latency, absl::ZeroDuration());
  EXPECT_FALSE(ZeroCostRuntime("huge").ok());
}

TEST(ServerBenchOverheadTest, SleepingRuntimeSleepsTheGivenTimes) {
  absl::StatusOr<server::FakeRuntimeOptions> f = SleepingRuntime("tiny", 1.91, 28.7355);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->version, "sleeping");
  EXPECT_EQ(f->action_horizon, 16);
  EXPECT_EQ(f->encode_latency, absl::Microseconds(1910));
  EXPECT_NEAR(absl::ToDoubleNanoseconds(f->decode_latency), 28735500, 1);  // not rounded to whole microseconds
  for (auto [encode, decode] : {std::pair{-1.0, 2.0}, {2.0, -0.5}, {30e3, 30e3}, {0.0, std::nan("")}}) {
    absl::StatusOr<server::FakeRuntimeOptions> bad = SleepingRuntime("tiny", encode, decode);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << encode << " " << decode;
  }
  EXPECT_FALSE(SleepingRuntime("huge", 1, 1).ok());
}

TEST(ServerBenchOverheadTest, IdleRowSubtractsTheSleeps) {
  const nlohmann::json row = IdleOverheadJson({{"p50_ms", 33.0}, {"failed_calls", 0}}, "tiny", 2.0, 28.0);
  EXPECT_DOUBLE_EQ(row["model_ms"].get<double>(), 30.0);
  EXPECT_DOUBLE_EQ(row["server_ms"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(row["p50_over_model"].get<double>(), 1.1);
  EXPECT_EQ(row["failed_calls"], 0);  // the row's own fields are kept
  EXPECT_NE(row["runtime"].get<std::string>().find("tiny"), std::string::npos);
  EXPECT_EQ(IdleOverheadJson({{"p50_ms", 1.0}}, "tiny", 0, 0)["p50_over_model"].get<double>(), -1.0);
}

}  // namespace
}  // namespace mivla::bench
