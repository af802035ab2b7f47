// File: heap_trimmer_test.cc
// The trimmer gives back, once per window, what stayed free beyond its keep (the window's smallest reading),
// reports what was given back, never releases while readings stay within the keep or are unknown, stops
// promptly, and refuses bad options; on the real allocator a freed 96 MiB block leaves the resident set.
#include "server/service/heap_trimmer.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/util/malloc_tuning.h"
#include "core/util/proc_status.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

int64_t ResidentBytes() { return ProcStatusBytes("VmRSS"); }

TEST(HeapTrimmerTest, GivesBackWhatStayedFreeBeyondTheKeepOncePerWindow) {
  // A window of four readings: {100, 40, 90, 70}, {30, -1, 30, 30} (-1: unknown), then 200 from then on,
  // against a keep of 25.
  const std::vector<int64_t> readings = {100, 40, 90, 70, 30, -1, 30, 30};
  std::atomic<int> reads{0};
  absl::Mutex mu;
  std::vector<int64_t> asked;  // guarded by mu
  std::atomic<int64_t> reported{0};
  HeapTrimmer::Options o;
  o.period = absl::Milliseconds(1);
  o.window = absl::Milliseconds(4);
  o.keep_bytes = 25;
  o.free_bytes = [&]() -> int64_t {
    const int i = reads++;
    return i < static_cast<int>(readings.size()) ? readings[i] : 200;
  };
  o.release = [&](int64_t bytes) -> int64_t {
    absl::MutexLock lock(&mu);
    asked.push_back(bytes);
    return bytes == 5 ? 0 : bytes + 1;  // the second gives nothing back (not reported), the others a span more
  };
  o.on_release = [&](int64_t bytes) { reported += bytes; };
  auto trimmer = HeapTrimmer::Create(o);
  ASSERT_TRUE(trimmer.ok()) << trimmer.status();
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (reads < 12 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(1));
  trimmer->reset();
  absl::MutexLock lock(&mu);
  ASSERT_GE(asked.size(), 3u);
  EXPECT_EQ(asked[0], 15);   // 40 stayed free through the first window
  EXPECT_EQ(asked[1], 5);    // 30 through the second (an unknown reading changes nothing)
  EXPECT_EQ(asked[2], 175);  // 200 through the third
  int64_t expected = 0;
  for (int64_t a : asked) expected += a == 5 ? 0 : a + 1;
  EXPECT_EQ(reported.load(), expected) << "only releases that gave something back are reported, as given";
}

TEST(HeapTrimmerTest, NothingIsGivenBackWhileReadingsStayWithinTheKeepOrUnknown) {
  std::atomic<int> reads{0}, releases{0};
  HeapTrimmer::Options o;
  o.period = absl::Milliseconds(2);
  o.window = absl::Milliseconds(4);
  o.keep_bytes = 100;
  o.free_bytes = [&]() -> int64_t { return ++reads % 2 == 0 ? -1 : 100; };  // glibc reads -1
  o.release = [&](int64_t) -> int64_t { return ++releases; };
  auto trimmer = HeapTrimmer::Create(o);
  ASSERT_TRUE(trimmer.ok()) << trimmer.status();
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (reads < 20 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(1));
  const absl::Time stop = absl::Now();
  trimmer->reset();
  EXPECT_LT(absl::Now() - stop, absl::Seconds(1)) << "the destructor waited for a period to end";
  EXPECT_GE(reads.load(), 20);
  EXPECT_EQ(releases.load(), 0);
}

TEST(HeapTrimmerTest, RefusesANonPositivePeriodAShortWindowAndANegativeKeep) {
  HeapTrimmer::Options o;
  o.period = absl::ZeroDuration();
  EXPECT_EQ(HeapTrimmer::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.period = absl::Seconds(1);
  o.window = absl::Milliseconds(500);
  absl::Status s = HeapTrimmer::Create(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("window"), std::string::npos) << s;
  o.window = absl::Seconds(1);
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
  o.window = absl::Milliseconds(30);
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
