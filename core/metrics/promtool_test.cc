// Checks the exposition with Prometheus' own linter, `promtool check metrics` (Debian `prometheus`).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "core/metrics/process_metrics.h"
#include "core/metrics/registry.h"

namespace mivla::metrics {
namespace {

TEST(PromtoolTest, CheckMetricsAcceptsEveryMetricType) {
  if (std::system("command -v promtool > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is not on PATH (Debian package prometheus)";
  }
  Registry registry;
  ASSERT_TRUE(RegisterProcessMetrics(&registry).ok());
  auto* requests =
      registry.AddCounter("mivla_requests_total", "RPCs by method and code.", {"rpc", "code"})
          .value();
  requests->WithLabels({"Act", "OK"}).value()->Inc(5);
  requests->WithLabels({"Observe", "INVALID_ARGUMENT"}).value()->Inc();
  auto sessions = registry.AddGauge("mivla_active_sessions", "Open sessions.", {"embodiment"});
  sessions.value()->WithLabels({"so100 \"arm\"\\\n"}).value()->Set(3);
  auto* latency = registry
                      .AddHistogram("mivla_stage_latency_seconds", "Latency per stage.", {"stage"},
                                    Histogram::DefaultBounds())
                      .value();
  for (double v : {0.001, 0.01, 0.3, 4.0, 30.0}) latency->WithLabels({"decode"}).value()->Observe(v);
  registry.AddHistogram("mivla_batch_size", "Batch size.", {}, {1, 2, 4, 8, 16})
      .value()
      ->WithLabels({})
      .value()
      ->Observe(3);

  const std::string dir = ::testing::TempDir();
  const std::string input = dir + "/mivla_metrics_promtool.txt";
  const std::string output = dir + "/mivla_metrics_promtool.out";
  std::ofstream(input) << registry.Expose();
  const int rc =
      std::system(("promtool check metrics < " + input + " > " + output + " 2>&1").c_str());
  std::stringstream report;
  report << std::ifstream(output).rdbuf();
  EXPECT_EQ(rc, 0) << report.str() << "\n--- exposition ---\n" << registry.Expose();
  EXPECT_EQ(report.str(), "") << "promtool lint findings";
}

}  // namespace
}  // namespace mivla::metrics
