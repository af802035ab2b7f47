// File: memory_sampler_test.cc
// The soak's memory figures: growth and slopes computed right from made-up snapshots (unknown figures
// stay null, a negative outside-the-heap figure is kept), and the sampler takes snapshots on its own
// thread that read this process's real memory.
#include "bench/memory_sampler.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace mivla::bench {
namespace {

constexpr int64_t kMib = int64_t{1} << 20;

MemorySnapshot At(double t_s, int64_t rss_mib, int64_t heap_mapped_mib) {
  MemorySnapshot s;
  s.t_s = t_s;
  s.rss = rss_mib * kMib;
  s.rss_anon = (rss_mib - 100) * kMib;
  s.rss_file = 100 * kMib;
  s.heap.mapped = heap_mapped_mib * kMib;
  s.heap.in_use = heap_mapped_mib * kMib / 2;
  return s;  // page heap and caches unknown (-1)
}

TEST(MemorySamplerTest, GrowthPerFigureWithUnknownsNull) {
  const nlohmann::json g = GrowthJson(At(0, 400, 250), At(60, 430, 260));
  EXPECT_DOUBLE_EQ(g["rss"].get<double>(), 30);
  EXPECT_DOUBLE_EQ(g["rss_anon"].get<double>(), 30);
  EXPECT_DOUBLE_EQ(g["rss_file"].get<double>(), 0);
  EXPECT_DOUBLE_EQ(g["heap_mapped"].get<double>(), 10);
  EXPECT_DOUBLE_EQ(g["outside_heap"].get<double>(), 20);  // (330 - 260) - (300 - 250)
  EXPECT_TRUE(g["page_heap_free"].is_null());
  EXPECT_TRUE(g["thread_caches"].is_null());
  EXPECT_FALSE(g.contains("t_s"));
}

TEST(MemorySamplerTest, OutsideTheHeapMayBeNegativeButUnknownIsNull) {
  MemorySnapshot s = At(0, 300, 250);  // anon 200 < mapped 250
  EXPECT_DOUBLE_EQ(SnapshotJson(s)["outside_heap"].get<double>(), -50);
  s.rss_anon = -1;
  EXPECT_TRUE(SnapshotJson(s)["outside_heap"].is_null());
  EXPECT_TRUE(SnapshotJson(s)["rss_anon"].is_null());
}

TEST(MemorySamplerTest, SlopeIsALeastSquaresFitFromTheStartOn) {
  std::vector<MemorySnapshot> series;
  series.push_back(At(0, 1000, 0));  // before `from`: ignored
  for (int i = 0; i < 10; ++i) {
    // 2 MiB a minute, with +-1 MiB of alternating noise that a fit averages out.
    series.push_back(At(60 + 30.0 * i, 400 + i + (i % 2 == 0 ? 1 : -1), 250));
  }
  EXPECT_NEAR(SlopeMibPerMin(series, "rss", 60).get<double>(), 2.0, 0.25);
  EXPECT_NEAR(SlopeMibPerMin(series, "heap_mapped", 60).get<double>(), 0.0, 1e-9);
  EXPECT_TRUE(SlopeMibPerMin(series, "page_heap_free", 60).is_null()) << "no known readings";
  EXPECT_TRUE(SlopeMibPerMin(series, "rss", 330).is_null()) << "one reading";
  EXPECT_LT(SlopeMibPerMin(series, "rss", 0).get<double>(), 0) << "from 0 on, the first reading (1000 MiB) counts";
}

TEST(MemorySamplerTest, SamplesThisProcessOnItsOwnThread) {
  MemorySampler sampler(absl::Milliseconds(20));
  const MemorySnapshot start = sampler.Take();
  ASSERT_GT(start.rss, 0);
  ASSERT_GT(start.rss_anon, 0);
  ASSERT_GE(start.rss_file, 0);
  EXPECT_GE(start.heap.in_use, 0);
  constexpr size_t kBlock = size_t{48} << 20;
  char* volatile block = static_cast<char*>(std::malloc(kBlock));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  absl::SleepFor(absl::Milliseconds(200));
  const MemorySnapshot end = sampler.Take();
  sampler.Stop();
  sampler.Stop();  // idempotent
  const nlohmann::json report = sampler.Report(start, end);
  std::free(block);
  EXPECT_GE(report["growth_mib"]["rss_anon"].get<double>(), 40);
  EXPECT_GE(report["growth_mib"]["heap_in_use"].get<double>(), 40);
  const nlohmann::json& series = report["series"];
  EXPECT_GE(series.size(), 5u) << "the sampler's own thread took too few snapshots";
  for (size_t i = 0; i < series.size(); ++i) {
    ASSERT_EQ(series[i].size(), report["columns"].size());
    if (i > 0) {
      EXPECT_GE(series[i][0].get<double>(), series[i - 1][0].get<double>()) << "not in time order";
    }
  }
}

}  // namespace
}  // namespace mivla::bench
