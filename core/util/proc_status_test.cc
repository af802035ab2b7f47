// File: proc_status_test.cc
#include "core/util/proc_status.h"

#include <sys/mman.h>

#include <cstring>

#include "gtest/gtest.h"

namespace mivla {
namespace {

constexpr char kStatus[] =
    "Name:\tmivla-server\n"
    "VmHWM:\t  512000 kB\n"
    "VmRSS:\t  409600 kB\n"
    "RssAnon:\t  300000 kB\n"
    "VmRSSx:\t  1 kB\n"
    "Threads:\t37\n"
    "VmLck:\t  twelve kB\n";

TEST(ProcStatusTest, ReadsKbFieldsInBytes) {
  EXPECT_EQ(StatusFieldBytes(kStatus, "VmRSS"), int64_t{409600} * 1024);
  EXPECT_EQ(StatusFieldBytes(kStatus, "VmHWM"), int64_t{512000} * 1024);
  EXPECT_EQ(StatusFieldBytes(kStatus, "RssAnon"), int64_t{300000} * 1024);
}

TEST(ProcStatusTest, UnknownAbsentOrNotKbIsMinusOne) {
  EXPECT_EQ(StatusFieldBytes(kStatus, "RssFile"), -1);  // absent
  EXPECT_EQ(StatusFieldBytes(kStatus, "Threads"), -1);  // a count, not kB
  EXPECT_EQ(StatusFieldBytes(kStatus, "VmLck"), -1);    // not a number
  EXPECT_EQ(StatusFieldBytes(kStatus, "VmRS"), -1);     // a prefix of a key is not that key
  EXPECT_EQ(StatusFieldBytes("", "VmRSS"), -1);
  EXPECT_EQ(StatusFieldBytes("VmRSS:", "VmRSS"), -1);
}

TEST(ProcStatusTest, OneReadGivesFiguresThatAgree) {
  const ProcMemory parsed = ParseProcMemory(kStatus);
  EXPECT_EQ(parsed.rss, int64_t{409600} * 1024);
  EXPECT_EQ(parsed.rss_anon, int64_t{300000} * 1024);
  EXPECT_EQ(parsed.rss_file, -1);
  EXPECT_EQ(parsed.peak, int64_t{512000} * 1024);
  const ProcMemory m = ReadProcMemory();
  ASSERT_GT(m.rss, 0);
  ASSERT_GE(m.rss_anon, 0);
  ASSERT_GE(m.rss_file, 0);
  ASSERT_GE(m.rss_shmem, 0);
  EXPECT_EQ(m.rss, m.rss_anon + m.rss_file + m.rss_shmem);
  EXPECT_GE(m.peak, m.rss);
}

TEST(ProcStatusTest, ThisProcessResidentMemoryFollowsTouchedPages) {
  constexpr size_t kBlock = size_t{32} << 20;
  const int64_t before = ProcStatusBytes("VmRSS");
  const int64_t anon_before = ProcStatusBytes("RssAnon");
  ASSERT_GT(before, 0);
  ASSERT_GT(anon_before, 0);
  void* p = mmap(nullptr, kBlock, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::memset(p, 1, kBlock);
  EXPECT_GE(ProcStatusBytes("VmRSS") - before, static_cast<int64_t>(kBlock) * 3 / 4);
  EXPECT_GE(ProcStatusBytes("RssAnon") - anon_before, static_cast<int64_t>(kBlock) * 3 / 4);
  munmap(p, kBlock);
  EXPECT_LT(ProcStatusBytes("RssAnon") - anon_before, static_cast<int64_t>(kBlock) / 4);
}

TEST(ProcStatusTest, MibKeepsUnknownAsMinusOne) {
  EXPECT_DOUBLE_EQ(MibOrUnknown(3 * 1048576.0), 3.0);
  EXPECT_DOUBLE_EQ(MibOrUnknown(512 * 1024.0), 0.5);
  EXPECT_DOUBLE_EQ(MibOrUnknown(0), 0.0);
  EXPECT_DOUBLE_EQ(MibOrUnknown(-1), -1.0);
  EXPECT_DOUBLE_EQ(MibOrUnknown(-4096), -1.0);  // any negative count is unknown, not a negative size
}

}  // namespace
}  // namespace mivla
