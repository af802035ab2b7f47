// File: checkpoint_listing_test.cc
#include "core/util/checkpoint_listing.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/util/temp_dir_test.h"

namespace mivla {
namespace {

namespace fs = std::filesystem;

class CheckpointListingTest : public TempDirTest {
 protected:
  CheckpointListingTest() : TempDirTest("mivla_listing_") {}
  // A file of `bytes` bytes whose modification time is `age_s` seconds in the past.
  void Write(const std::string& name, int bytes, int age_s) {
    std::ofstream(dir_ / name) << std::string(bytes, 'x');
    fs::last_write_time(dir_ / name, fs::file_time_type::clock::now() - std::chrono::seconds(age_s));
  }
  std::vector<std::string> Names() {
    std::vector<std::string> names;
    for (const CheckpointFile& c : ListCheckpoints(dir_.string())) names.push_back(fs::path(c.path).filename());
    return names;
  }
};

TEST_F(CheckpointListingTest, NewestFirstWithSizesAndTimes) {
  Write("old.mivla", 3, 300);
  Write("new.mivla", 5, 10);
  Write("mid.mivla", 4, 100);
  EXPECT_EQ(Names(), (std::vector<std::string>{"new.mivla", "mid.mivla", "old.mivla"}));
  const std::vector<CheckpointFile> files = ListCheckpoints(dir_.string());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].path, (dir_ / "new.mivla").string());
  EXPECT_EQ(files[0].size, 5);
  EXPECT_EQ(files[2].size, 3);
  EXPECT_GT(files[0].mtime_ns, files[1].mtime_ns);
  EXPECT_GT(files[1].mtime_ns, files[2].mtime_ns);
}

TEST_F(CheckpointListingTest, EqualTimesAreOrderedByPathDescending) {
  Write("a.mivla", 1, 50);
  Write("b.mivla", 1, 50);
  const auto t = fs::last_write_time(dir_ / "a.mivla");
  fs::last_write_time(dir_ / "b.mivla", t);
  EXPECT_EQ(Names(), (std::vector<std::string>{"b.mivla", "a.mivla"}));
}

TEST_F(CheckpointListingTest, OnlyVisibleRegularCheckpointFilesCount) {
  EXPECT_TRUE(ListCheckpoints((dir_ / "missing").string()).empty());
  Write("README.md", 1, 0);
  Write(".tmp-write.mivla", 1, 0);     // the checkpoint writer's temporary
  Write(".mivla-rollout.json", 1, 0);  // the rollout state file
  Write("tiny.mivla.part", 1, 0);
  fs::create_directories(dir_ / "old.mivla");
  EXPECT_TRUE(Names().empty());
  Write("tiny.mivla", 1, 0);
  fs::create_symlink(dir_ / "tiny.mivla", dir_ / "link.mivla");  // a link to a file is followed
  EXPECT_EQ(Names().size(), 2u);
}

}  // namespace
}  // namespace mivla
