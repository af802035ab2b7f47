// File: malloc_tuning_test.cc
// On glibc's malloc (this test is linked without MIVLA_MALLOC's allocator): the fixed threshold decides
// which blocks are mapped (mallinfo2().hblks counts mapped blocks), and a large free no longer raises it:
// after a 16 MiB block comes and goes, a 10 MiB block is still mapped. The introspection names glibc.
#include "core/util/malloc_tuning.h"

#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "gtest/gtest.h"

namespace mivla {
namespace {

size_t MappedBlocks() { return mallinfo2().hblks; }

char* volatile sink = nullptr;  // keeps the compiler from eliding the malloc / free pairs

// Allocates `bytes` and reports whether the block was mapped.
bool Mapped(size_t bytes) {
  const size_t before = MappedBlocks();
  sink = static_cast<char*>(std::malloc(bytes));
  std::memset(sink, 1, 64);
  const bool mapped = MappedBlocks() > before;
  std::free(sink);
  return mapped;
}

TEST(MallocTuning, GlibcIsTheAllocatorWithoutTheLinkedOne) {
  EXPECT_EQ(ProcessAllocator(), Allocator::kGlibc);
  EXPECT_EQ(AllocatorName().rfind("glibc 2.", 0), 0u) << AllocatorName();
  const int64_t before = HeapBytesInUse();
  sink = static_cast<char*>(std::malloc(size_t{1} << 20));
  EXPECT_GE(HeapBytesInUse() - before, int64_t{1} << 20);
  std::free(sink);
  const HeapStats h = ReadHeapStats();
  EXPECT_GE(h.in_use, 0);
  EXPECT_EQ(h.mapped, -1) << "glibc's arena figures are address space, not resident memory";
  EXPECT_EQ(h.page_heap_free, -1);
  EXPECT_EQ(h.thread_caches, -1);
  EXPECT_EQ(h.central_caches, -1);
}

TEST(MallocTuning, FixedThresholdIsNotRaisedByALargeFree) {
  unsetenv("GLIBC_TUNABLES");
  ASSERT_TRUE(FixMallocMmapThreshold(size_t{8} << 20));
  EXPECT_FALSE(Mapped(size_t{4} << 20));
  EXPECT_TRUE(Mapped(size_t{16} << 20));
  EXPECT_TRUE(Mapped(size_t{10} << 20)) << "the 16 MiB free raised the threshold";
  EXPECT_FALSE(Mapped(size_t{6} << 20));
}

TEST(MallocTuning, RefusesOutOfRangeAndDefersToTunables) {
  EXPECT_FALSE(FixMallocMmapThreshold(1024));
  EXPECT_FALSE(FixMallocMmapThreshold(size_t{64} << 20));
  setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=1048576", 1);
  EXPECT_FALSE(FixMallocMmapThreshold(size_t{8} << 20));
  unsetenv("GLIBC_TUNABLES");
}

}  // namespace
}  // namespace mivla
