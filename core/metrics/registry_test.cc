#include "core/metrics/registry.h"

#include <cmath>

#include "gtest/gtest.h"

namespace mivla::metrics {
namespace {

TEST(RegistryTest, ExposesExactText) {
  Registry registry;
  Family<Counter>* requests =
      registry.AddCounter("mivla_requests_total", "RPCs served.", {"rpc", "code"}).value();
  Family<Gauge>* sessions = registry.AddGauge("mivla_active_sessions", "Open sessions.", {}).value();
  Family<Histogram>* latency =
      registry.AddHistogram("mivla_latency_seconds", "Latency.\nIn seconds.", {"stage"}, {0.1, 1})
          .value();
  requests->WithLabels({"Act", "OK"}).value()->Inc(3);
  requests->WithLabels({"Act", "INVALID_ARGUMENT"}).value()->Inc();
  sessions->WithLabels({}).value()->Set(2);
  Histogram* decode = latency->WithLabels({"decode"}).value();
  decode->Observe(0.1);
  decode->Observe(0.5);
  decode->Observe(2);

  EXPECT_EQ(registry.Expose(),
            "# HELP mivla_active_sessions Open sessions.\n"
            "# TYPE mivla_active_sessions gauge\n"
            "mivla_active_sessions 2\n"
            "# HELP mivla_latency_seconds Latency.\\nIn seconds.\n"
            "# TYPE mivla_latency_seconds histogram\n"
            "mivla_latency_seconds_bucket{stage=\"decode\",le=\"0.1\"} 1\n"
            "mivla_latency_seconds_bucket{stage=\"decode\",le=\"1\"} 2\n"
            "mivla_latency_seconds_bucket{stage=\"decode\",le=\"+Inf\"} 3\n"
            "mivla_latency_seconds_sum{stage=\"decode\"} 2.6\n"
            "mivla_latency_seconds_count{stage=\"decode\"} 3\n"
            "# HELP mivla_requests_total RPCs served.\n"
            "# TYPE mivla_requests_total counter\n"
            "mivla_requests_total{rpc=\"Act\",code=\"INVALID_ARGUMENT\"} 1\n"
            "mivla_requests_total{rpc=\"Act\",code=\"OK\"} 3\n");
}

TEST(RegistryTest, EscapesLabelValues) {
  Registry registry;
  registry.AddGauge("g", "h", {"task"}).value()->WithLabels({"say \"hi\"\\n\nnext"}).value()->Set(
      NAN);
  EXPECT_EQ(registry.Expose(),
            "# HELP g h\n# TYPE g gauge\ng{task=\"say \\\"hi\\\"\\\\n\\nnext\"} NaN\n");
}

TEST(RegistryTest, HistogramWithoutLabels) {
  Registry registry;
  registry.AddHistogram("h", "h", {}, {1}).value()->WithLabels({}).value()->Observe(1);
  EXPECT_EQ(registry.Expose(),
            "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
            "h_sum 1\nh_count 1\n");
}

TEST(RegistryTest, SameShapeReturnsExistingFamily) {
  Registry registry;
  auto first = registry.AddCounter("c_total", "c", {"a"});
  auto second = registry.AddCounter("c_total", "other help", {"a"});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  auto h1 = registry.AddHistogram("h", "h", {}, {1, 2});
  EXPECT_EQ(*h1, *registry.AddHistogram("h", "h", {}, {1, 2}));
}

TEST(RegistryTest, DuplicateWithOtherShapeIsError) {
  Registry registry;
  ASSERT_TRUE(registry.AddCounter("m", "m", {"a"}).ok());
  EXPECT_EQ(registry.AddGauge("m", "m", {"a"}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddCounter("m", "m", {"b"}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddCounter("m", "m", {}).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(registry.AddHistogram("h", "h", {}, {1}).ok());
  EXPECT_EQ(registry.AddHistogram("h", "h", {}, {2}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddCounter("h_count", "c", {}).status().code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(registry.AddGauge("x_sum", "x", {}).ok());
  EXPECT_EQ(registry.AddHistogram("x", "x", {}, {1}).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(RegistryTest, InvalidNamesAreErrors) {
  Registry registry;
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(registry.AddCounter("bad-name", "", {}).status().code(), kInvalid);
  EXPECT_EQ(registry.AddCounter("", "", {}).status().code(), kInvalid);
  EXPECT_EQ(registry.AddGauge("g", "", {"bad label"}).status().code(), kInvalid);
  EXPECT_EQ(registry.AddGauge("g", "", {"__reserved"}).status().code(), kInvalid);
  EXPECT_EQ(registry.AddGauge("g", "", {"a", "a"}).status().code(), kInvalid);
  EXPECT_EQ(registry.AddHistogram("h", "", {"le"}, {1}).status().code(), kInvalid);
  EXPECT_EQ(registry.AddHistogram("h", "", {}, {2, 1}).status().code(), kInvalid);
  EXPECT_EQ(registry.Expose(), "");
}

TEST(RegistryTest, CollectHooksRunBeforeExposition) {
  Registry registry;
  Gauge* gauge = registry.AddGauge("g", "g", {}).value()->WithLabels({}).value();
  int calls = 0;
  registry.AddCollectHook([&] { gauge->Set(++calls); });
  EXPECT_EQ(registry.Expose(), "# HELP g g\n# TYPE g gauge\ng 1\n");
  EXPECT_EQ(registry.Expose(), "# HELP g g\n# TYPE g gauge\ng 2\n");
}

}  // namespace
}  // namespace mivla::metrics
