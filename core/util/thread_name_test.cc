#include "core/util/thread_name.h"

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace mivla {
namespace {

std::string NameSeenInThread(const std::string& name) {
  std::string seen;
  std::thread t([&] {
    SetThisThreadName(name);
    seen = ThisThreadName();
  });
  t.join();
  return seen;
}

TEST(ThreadNameTest, NamesTheCallingThreadOnly) {
  const std::string before = ThisThreadName();
  EXPECT_EQ(NameSeenInThread("decode-0"), "decode-0");
  EXPECT_EQ(ThisThreadName(), before);
}

TEST(ThreadNameTest, CutsLongNamesToWhatTheKernelKeeps) {
  EXPECT_EQ(NameSeenInThread("image-decode-pool-12"), "image-decode-po");
  EXPECT_EQ(NameSeenInThread("exactly15bytes!"), "exactly15bytes!");
}

TEST(ThreadNameTest, StartNamedThreadNamesItBeforeTheBodyRuns) {
  std::string seen;
  std::thread t = StartNamedThread("stage-3", [&] { seen = ThisThreadName(); });
  t.join();
  EXPECT_EQ(seen, "stage-3");
}

TEST(ThreadNameTest, EmptyNameIsAllowed) { EXPECT_EQ(NameSeenInThread(""), ""); }

}  // namespace
}  // namespace mivla
