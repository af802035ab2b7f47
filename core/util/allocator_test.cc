// File: allocator_test.cc
// The allocator every executable links (MIVLA_MALLOC, cmake/Dependencies.cmake) is the one serving malloc
// when the process runs, and the introspection in malloc_tuning.h reads it: bytes in use follow a live
// block, and a freed block's pages go back to the kernel on ReleaseFreeHeap.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "core/util/malloc_tuning.h"
#include "core/util/read_file.h"
#include "gtest/gtest.h"

namespace mivla {
namespace {

constexpr size_t kBlock = size_t{64} << 20;

// VmRSS of this process in bytes; -1 when /proc cannot be read. (core/metrics' ReadProcessStats is not in
// the model-only build this test is part of.)
int64_t ResidentBytes() {
  absl::StatusOr<std::string> status = ReadFile("/proc/self/status");
  if (!status.ok()) return -1;
  std::istringstream lines(*status);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

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
  EXPECT_EQ(ReleaseFreeHeapAbove(int64_t{1} << 40), 0) << "nothing is given back below the keep";
  ReleaseFreeHeap();
  ASSERT_GT(rss_held, 0);
  EXPECT_LT(ResidentBytes(), rss_held - static_cast<int64_t>(kBlock) / 2)
      << "the freed 64 MiB block's pages are still resident after ReleaseFreeHeap";
}

TEST(AllocatorTest, ReleaseAboveTheKeepGivesAFreedBlockBackUnderTcmallocOnly) {
  char* volatile block = static_cast<char*>(std::malloc(kBlock));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  std::free(block);
  const int64_t released = ReleaseFreeHeapAbove(int64_t{16} << 20);
  if (ProcessAllocator() == Allocator::kTcmalloc) {
    EXPECT_GT(released, 0) << "the freed 64 MiB block stayed in the page heap";
  } else {
    EXPECT_EQ(released, 0) << "glibc unmapped the block on free; there is nothing to release";
  }
  EXPECT_EQ(ReleaseFreeHeapAbove(int64_t{16} << 20), 0) << "a second call found the page heap empty";
}

}  // namespace
}  // namespace mivla
