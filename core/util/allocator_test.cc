// File: allocator_test.cc
// The allocator every executable links (MIVLA_MALLOC, cmake/Dependencies.cmake) is the one serving malloc
// when the process runs, and the introspection in malloc_tuning.h reads it: bytes in use follow a live
// block, and a freed block's pages go back to the kernel on ReleaseFreeHeap.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/util/malloc_tuning.h"
#include "core/util/proc_status.h"
#include "gtest/gtest.h"

namespace mivla {
namespace {

constexpr size_t kBlock = size_t{64} << 20;

int64_t ResidentBytes() { return ProcStatusBytes("VmRSS"); }

TEST(AllocatorTest, TheLinkedAllocatorServesMalloc) {
#if MIVLA_EXPECT_TCMALLOC
  EXPECT_EQ(ProcessAllocator(), Allocator::kTcmalloc)
      << "built with MIVLA_MALLOC=tcmalloc, but malloc is " << AllocatorName() << " (was the library dropped at link?)";
  EXPECT_EQ(AllocatorName().rfind("tcmalloc (gperftools ", 0), 0u) << AllocatorName();
  EXPECT_FALSE(FixMallocMmapThreshold(kServerMmapThresholdBytes)) << "tcmalloc has no mmap threshold";
#else
  EXPECT_EQ(ProcessAllocator(), Allocator::kGlibc) << AllocatorName();
#endif
}

TEST(AllocatorTest, BytesInUseFollowALiveBlockAndReleaseGivesItsPagesBack) {
  const int64_t before = HeapBytesInUse();
  ASSERT_GE(before, 0);
  char* volatile block = static_cast<char*>(std::malloc(kBlock));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  const int64_t held = HeapBytesInUse();
  const int64_t rss_held = ResidentBytes();
  EXPECT_GE(held - before, static_cast<int64_t>(kBlock));
  std::free(block);
  EXPECT_LT(HeapBytesInUse() - before, static_cast<int64_t>(kBlock) / 2);
  ReleaseFreeHeap();
  ASSERT_GT(rss_held, 0);
  EXPECT_LT(ResidentBytes(), rss_held - static_cast<int64_t>(kBlock) / 2)
      << "the freed 64 MiB block's pages are still resident after ReleaseFreeHeap";
}

TEST(AllocatorTest, AFreedBlockIsCountedFreeAndGivenBackUnderTcmallocOnly) {
  ReleaseFreeHeap();  // start from an empty page heap
  char* volatile block = static_cast<char*>(std::malloc(kBlock));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  std::free(block);
  const int64_t free_bytes = HeapFreeBytes();
  const int64_t released = ReleaseFreeHeapBytes(int64_t{16} << 20);
  if (ProcessAllocator() == Allocator::kTcmalloc) {
    EXPECT_GE(free_bytes, static_cast<int64_t>(kBlock)) << "the freed 64 MiB block is not in the page heap";
    EXPECT_GE(released, int64_t{16} << 20) << "the freed 64 MiB block stayed in the page heap";
    EXPECT_LT(HeapFreeBytes(), free_bytes);
  } else {
    EXPECT_EQ(free_bytes, -1);
    EXPECT_EQ(released, 0) << "glibc unmapped the block on free; there is nothing to release";
  }
  EXPECT_EQ(ReleaseFreeHeapBytes(0), 0);
}

TEST(AllocatorTest, HeapStatsSplitWhatTheAllocatorHolds) {
  ReleaseFreeHeap();
  const HeapStats before = ReadHeapStats();
  ASSERT_GE(before.in_use, 0);
  char* volatile block = static_cast<char*>(std::malloc(kBlock));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  const HeapStats held = ReadHeapStats();
  std::free(block);
  const HeapStats freed = ReadHeapStats();
  EXPECT_GE(held.in_use - before.in_use, static_cast<int64_t>(kBlock));
  EXPECT_LT(freed.in_use - before.in_use, static_cast<int64_t>(kBlock) / 2);
  if (ProcessAllocator() != Allocator::kTcmalloc) {
    // glibc: only the bytes in use are known (its arena figures are address space).
    EXPECT_EQ(freed.mapped, -1);
    EXPECT_EQ(freed.page_heap_free, -1);
    EXPECT_EQ(freed.thread_caches, -1);
    return;
  }
  ASSERT_GE(before.mapped, before.in_use) << "tcmalloc holds less than it has handed out";
  ASSERT_GE(before.page_heap_free, 0);
  EXPECT_GE(freed.thread_caches, 0) << "tcmalloc.current_total_thread_cache_bytes unknown";
  EXPECT_GE(freed.central_caches, 0) << "tcmalloc's central or transfer cache bytes unknown";
  EXPECT_GE(held.mapped - before.mapped, static_cast<int64_t>(kBlock) * 3 / 4);
  // tcmalloc keeps the freed block's pages mapped, in its page heap, until they are released.
  EXPECT_GE(freed.page_heap_free - before.page_heap_free, static_cast<int64_t>(kBlock) * 3 / 4);
  EXPECT_GE(freed.mapped - before.mapped, static_cast<int64_t>(kBlock) * 3 / 4);
  ReleaseFreeHeap();
  EXPECT_LT(ReadHeapStats().mapped - before.mapped, static_cast<int64_t>(kBlock) / 4)
      << "released pages still count as mapped";
}

TEST(AllocatorTest, ReleasingSomeBytesGivesBackWholeSpansNotEverything) {
  constexpr size_t kThird = size_t{32} << 20;
  ReleaseFreeHeap();
  char* volatile a = static_cast<char*>(std::malloc(kThird));
  char* volatile b = static_cast<char*>(std::malloc(kThird));  // lives between the two freed blocks
  char* volatile c = static_cast<char*>(std::malloc(kThird));
  ASSERT_TRUE(a != nullptr && b != nullptr && c != nullptr);
  for (char* p : {a, b, c}) std::memset(p, 1, kThird);
  std::free(a);
  std::free(c);
  // Two free 32 MiB spans; asking for 8 MiB gives back one of them (a whole span), not both.
  const int64_t first = ReleaseFreeHeapBytes(int64_t{8} << 20);
  const int64_t rest = ReleaseFreeHeapBytes(int64_t{1} << 40);
  std::free(b);
  if (ProcessAllocator() == Allocator::kTcmalloc) {
    EXPECT_GE(first, int64_t{8} << 20);
    EXPECT_LT(first, int64_t{2 * kThird}) << "both freed blocks went back for an 8 MiB request";
    EXPECT_GE(rest, static_cast<int64_t>(kThird) / 2) << "the second block stayed after an unbounded request";
  } else {
    EXPECT_EQ(first + rest, 0) << "glibc unmapped the blocks on free; there is nothing to release";
  }
}

}  // namespace
}  // namespace mivla
