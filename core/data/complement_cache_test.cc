// Tests of the cache folder beside a dataset and of entries keyed by the path relative to the dataset.
#include "core/data/complement_cache.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "core/data/robotwin_format.h"
#include "core/data/test_util.h"
#include "gtest/gtest.h"

namespace mivla::data {
namespace {

namespace fs = std::filesystem;
using action::Embodiment;

// A RoboTwin-layout dataset with one PiPER episode; returns the episode file.
std::string WriteDataset(const std::string& root) {
  RobotEpisode e = testing::MakeRobotEpisode(Embodiment::kPiper, 8);
  EXPECT_TRUE(WriteRoboTwinEpisode(root + "/piper_clean", 0, e).ok());
  return RoboTwinEpisodePath(root + "/piper_clean", 0);
}

ComplementOptions BesideOptions(const std::string& root) {
  ComplementOptions o;
  auto dir = DatasetComplementCacheDir(root);
  EXPECT_TRUE(dir.ok()) << dir.status();
  o.cache_dir = dir.ok() ? *dir : "";
  o.dataset_root = root;
  return o;
}

TEST(DatasetComplementCacheDirTest, CreatesTheDotFolderInsideTheDataset) {
  const std::string root = testing::MakeTempDir("cache_beside");
  auto dir = DatasetComplementCacheDir(root);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(fs::path(*dir), fs::path(root) / ".mivla_complements");
  EXPECT_TRUE(fs::is_directory(*dir));
  EXPECT_TRUE(fs::is_empty(*dir));  // the probe file is removed
  EXPECT_TRUE(DatasetComplementCacheDir(root).ok());  // again: the folder exists already
}

TEST(DatasetComplementCacheDirTest, UnwritableDatasetIsAnErrorNamingTheFolder) {
  const std::string root = testing::MakeTempDir("cache_blocked");
  { std::ofstream(root + "/.mivla_complements") << "a file where the folder would go"; }
  auto dir = DatasetComplementCacheDir(root);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find(".mivla_complements"), std::string::npos) << dir.status();

  const std::string missing = root + "/no_such_dataset";
  EXPECT_EQ(DatasetComplementCacheDir(missing).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(missing));  // nothing created for a dataset that is not there
}

TEST(DatasetComplementCacheDirTest, ReadOnlyDatasetIsAnError) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes through permission bits (the blocked-folder test covers the path)";
  const std::string root = testing::MakeTempDir("cache_readonly");
  fs::permissions(root, fs::perms::owner_read | fs::perms::owner_exec);
  auto dir = DatasetComplementCacheDir(root);
  fs::permissions(root, fs::perms::owner_all);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find(root), std::string::npos) << dir.status();
}

TEST(ComplementCacheBesideTest, SecondLoadHitsAndAMovedDatasetStillHits) {
  const std::string parent = testing::MakeTempDir("cache_move");
  const std::string root = parent + "/robot";
  const std::string episode = WriteDataset(root);
  ComplementReport first, second;
  auto a = LoadEpisodeWithComplements(episode, {}, BesideOptions(root), &first);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(first.from_cache);
  auto key = ComplementCacheKey(episode, Embodiment::kPiper, {}, BesideOptions(root));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->find(root), std::string::npos) << *key;  // relative to the dataset
  EXPECT_NE(key->find("|piper_clean/"), std::string::npos) << *key;
  EXPECT_TRUE(fs::exists(ComplementCachePath(root + "/.mivla_complements", *key)));
  ASSERT_TRUE(LoadEpisodeWithComplements(episode, {}, BesideOptions(root), &second).ok());
  EXPECT_TRUE(second.from_cache);

  // The dataset (with its cache folder) moved elsewhere: same relative paths, sizes and mtimes.
  const std::string moved = parent + "/moved";
  fs::rename(root, moved);
  ComplementReport third;
  auto b = LoadEpisodeWithComplements(RoboTwinEpisodePath(moved + "/piper_clean", 0), {}, BesideOptions(moved), &third);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(third.from_cache);
  EXPECT_EQ(a->complement_masks, b->complement_masks);
  EXPECT_EQ(a->states, b->states);
}

TEST(ComplementCacheBesideTest, EditedEpisodeIsRecomputed) {
  const std::string root = testing::MakeTempDir("cache_edit");
  const std::string episode = WriteDataset(root);
  ComplementReport r;
  ASSERT_TRUE(LoadEpisodeWithComplements(episode, {}, BesideOptions(root), &r).ok());
  ASSERT_TRUE(LoadEpisodeWithComplements(episode, {}, BesideOptions(root), &r).ok());
  ASSERT_TRUE(r.from_cache);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  RobotEpisode other = testing::MakeRobotEpisode(Embodiment::kPiper, 8);
  for (auto& q : other.arms[0].joints) q[0] += 0.1;  // another motion, same length
  ASSERT_TRUE(WriteRoboTwinEpisode(root + "/piper_clean", 0, other).ok());
  auto edited = LoadEpisodeWithComplements(episode, {}, BesideOptions(root), &r);
  ASSERT_TRUE(edited.ok()) << edited.status();
  EXPECT_FALSE(r.from_cache);
  UnifiedEpisode direct = *LoadUnifiedEpisode(episode, {});
  ASSERT_TRUE(AddComplements(direct, BesideOptions(root)).ok());
  EXPECT_EQ(edited->complement_masks, direct.complement_masks);
  EXPECT_EQ(edited->states, direct.states);
}

}  // namespace
}  // namespace mivla::data
