// File: heap_trimmer_test.cc
// The trimmer calls the release with its keep every period, reports what was given back, stops promptly,
// and refuses bad options; on the real allocator a freed 96 MiB block leaves the resident set.
#include "server/service/heap_trimmer.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/time/clock.h"
#include "core/metrics/process_metrics.h"
#include "core/util/malloc_tuning.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

int64_t ResidentBytes() {
  absl::StatusOr<metrics::ProcessStats> stats = metrics::ReadProcessStats();
  return stats.ok() ? static_cast<int64_t>(stats->resident_memory_bytes) : -1;
}

TEST(HeapTrimmerTest, ReleasesEveryPeriodWithItsKeepAndReportsWhatWasGivenBack) {
  std::atomic<int> calls{0};
  std::atomic<int64_t> reported{0};
  std::atomic<int64_t> keep_seen{-1};
  HeapTrimmer::Options o;
  o.period = absl::Milliseconds(10);
  o.keep_bytes = 12345;
  o.release = [&](int64_t keep) -> int64_t {
    keep_seen = keep;
    return ++calls % 2 == 0 ? 1000 : 0;  // every other call gives something back
  };
  o.on_release = [&](int64_t bytes) { reported += bytes; };
  auto trimmer = HeapTrimmer::Create(o);
  ASSERT_TRUE(trimmer.ok()) << trimmer.status();
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (calls < 6 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(5));
  const absl::Time stop = absl::Now();
  trimmer->reset();
  EXPECT_LT(absl::Now() - stop, absl::Seconds(1)) << "the destructor waited for a period to end";
  const int n = calls;
  EXPECT_GE(n, 6);
  EXPECT_EQ(keep_seen.load(), 12345);
  EXPECT_EQ(reported.load(), 1000 * (n / 2)) << "only releases that gave something back are reported";
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(calls.load(), n) << "the release ran after the trimmer was destroyed";
}

TEST(HeapTrimmerTest, RefusesANonPositivePeriodAndANegativeKeep) {
  HeapTrimmer::Options o;
  o.period = absl::ZeroDuration();
  EXPECT_EQ(HeapTrimmer::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.period = absl::Seconds(1);
  o.keep_bytes = -1;
  EXPECT_EQ(HeapTrimmer::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HeapTrimmerTest, AFreedLargeBlockLeavesTheResidentSetUnderTheLinkedAllocator) {
  constexpr size_t kBlock = size_t{96} << 20;
  char* volatile block = static_cast<char*>(std::malloc(kBlock));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  const int64_t held = ResidentBytes();
  std::free(block);
  std::atomic<int64_t> released{0};
  HeapTrimmer::Options o;
  o.period = absl::Milliseconds(10);
  o.keep_bytes = int64_t{16} << 20;
  o.on_release = [&](int64_t bytes) { released += bytes; };
  auto trimmer = HeapTrimmer::Create(o);
  ASSERT_TRUE(trimmer.ok());
  const absl::Time until = absl::Now() + absl::Seconds(5);
  while (ResidentBytes() > held - static_cast<int64_t>(kBlock) / 2 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  trimmer->reset();
  EXPECT_LT(ResidentBytes(), held - static_cast<int64_t>(kBlock) / 2) << AllocatorName();
  if (ProcessAllocator() == Allocator::kTcmalloc) {
    EXPECT_GT(released.load(), 0) << "tcmalloc kept the block until the trimmer";
  } else {
    EXPECT_EQ(released.load(), 0) << "glibc unmaps a block this large on free; the trimmer has nothing to do";
  }
}

}  // namespace
}  // namespace mivla::server
