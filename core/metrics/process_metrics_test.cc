#include "core/metrics/process_metrics.h"

#include <ctime>
#include <vector>

#include "gtest/gtest.h"

namespace mivla::metrics {
namespace {

TEST(ProcessMetricsTest, ReadsPlausibleStats) {
  absl::StatusOr<ProcessStats> stats = ReadProcessStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_GT(stats->resident_memory_bytes, 1 << 20);
  EXPECT_GE(stats->virtual_memory_bytes, stats->resident_memory_bytes);
  EXPECT_GE(stats->open_fds, 3);
  EXPECT_GE(stats->max_fds, stats->open_fds);
  EXPECT_GE(stats->cpu_seconds, 0);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(stats->start_time_seconds, now + 1);
  EXPECT_GT(stats->start_time_seconds, now - 24 * 3600);
}

TEST(ProcessMetricsTest, RegistersConventionalFamilies) {
  Registry registry;
  ASSERT_TRUE(RegisterProcessMetrics(&registry).ok());
  volatile double sink = 0;
  for (int i = 0; i < 20000000; ++i) sink = sink + i;  // some CPU time
  const std::string text = registry.Expose();
  for (const char* line : {"# TYPE process_resident_memory_bytes gauge",
                           "# TYPE process_virtual_memory_bytes gauge",
                           "# TYPE process_open_fds gauge", "# TYPE process_max_fds gauge",
                           "# TYPE process_start_time_seconds gauge",
                           "# TYPE process_cpu_seconds_total counter"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(text.find("process_resident_memory_bytes 0\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace mivla::metrics
