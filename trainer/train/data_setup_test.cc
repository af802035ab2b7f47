// The complement cache as mivla-train sets it up (MakeLoaderOptions): beside each dataset by default
// (<source>/.mivla_complements), a second load reads it instead of retargeting, an edited episode is
// recomputed, a dataset that cannot be written falls back to <output_dir>/complement_cache, and the
// config's cache_dir overrides both.
#include "trainer/train/data_setup.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "core/data/robotwin_format.h"
#include "core/data/test_util.h"
#include "core/model/model_config.h"
#include "core/tokenizer/tokenizer.h"
#include "gtest/gtest.h"

namespace mivla::trainer {
namespace {

namespace fs = std::filesystem;
using action::Embodiment;

data::RobotEpisode Episode(int frames, double shift = 0.0) {
  data::RobotEpisode e = data::testing::MakeRobotEpisode(Embodiment::kPiper, frames, 32, 24);
  e.control_hz = 30;
  for (auto& q : e.arms[0].joints) q[0] += shift;
  return e;
}

// A RoboTwin-layout PiPER dataset with `n` episodes under a fresh directory.
std::string Dataset(const std::string& prefix, int n) {
  const std::string root = data::testing::MakeTempDir(prefix);
  for (int i = 0; i < n; ++i) EXPECT_TRUE(data::WriteRoboTwinEpisode(root + "/piper_clean", i, Episode(20 + i)).ok());
  return root;
}

TrainConfig Config(const std::string& output_dir, const std::vector<std::string>& sources) {
  TrainConfig c;
  c.output_dir = output_dir;
  for (size_t i = 0; i < sources.size(); ++i) c.sources.push_back({"src" + std::to_string(i), sources[i], 1.0, "piper"});
  c.tokenizer = std::string(MIVLA_SOURCE_DIR) + "/" + tokenizer::kTinyTokenizerModelPath;
  c.batch_size = 2;
  c.workers = 1;
  c.prefetch_batches = 1;
  return c;
}

LoaderOptions Options(const TrainConfig& c) {
  auto o = MakeLoaderOptions(c, model::TinyConfig(), 0, 1, nullptr);
  EXPECT_TRUE(o.ok()) << o.status();
  return o.ok() ? *o : LoaderOptions{};
}

// Loads every source and returns the per-source count of episodes whose complements came from the cache.
std::vector<int> CachedPerSource(const LoaderOptions& o) {
  auto loader = DataLoader::Create(o);
  EXPECT_TRUE(loader.ok()) << loader.status();
  std::vector<int> out;
  if (!loader.ok()) return out;
  for (const LoadReport::Src& s : (*loader)->report().sources) out.push_back(s.complements_cached);
  return out;
}

int Files(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) n += it->is_regular_file();
  return n;
}

TEST(DataSetupTest, ComplementsAreCachedBesideEachDataset) {
  const std::string a = Dataset("setup_a", 2), b = Dataset("setup_b", 1);
  const std::string out = data::testing::MakeTempDir("setup_out");
  const LoaderOptions o = Options(Config(out, {a, b}));
  ASSERT_EQ(o.sources.size(), 2u);
  EXPECT_EQ(fs::path(o.sources[0].complement_cache_dir), fs::path(a) / ".mivla_complements");
  EXPECT_EQ(fs::path(o.sources[1].complement_cache_dir), fs::path(b) / ".mivla_complements");

  EXPECT_EQ(CachedPerSource(o), (std::vector<int>{0, 0}));  // first load: retargeted, then written
  EXPECT_EQ(Files(a + "/.mivla_complements"), 2);
  EXPECT_EQ(Files(b + "/.mivla_complements"), 1);
  EXPECT_FALSE(fs::exists(out + "/complement_cache"));
  EXPECT_EQ(CachedPerSource(Options(Config(out, {a, b}))), (std::vector<int>{2, 1}));  // no retargeting
}

TEST(DataSetupTest, AnEditedEpisodeIsRecomputed) {
  const std::string a = Dataset("setup_edit", 2);
  const std::string out = data::testing::MakeTempDir("setup_edit_out");
  EXPECT_EQ(CachedPerSource(Options(Config(out, {a}))), (std::vector<int>{0}));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(data::WriteRoboTwinEpisode(a + "/piper_clean", 1, Episode(21, 0.1)).ok());
  EXPECT_EQ(CachedPerSource(Options(Config(out, {a}))), (std::vector<int>{1}));  // episode 1 redone
  EXPECT_EQ(CachedPerSource(Options(Config(out, {a}))), (std::vector<int>{2}));
}

TEST(DataSetupTest, AnUnwritableDatasetFallsBackToTheOutputDirectory) {
  const std::string a = Dataset("setup_ro", 1), b = Dataset("setup_rw", 1);
  const std::string out = data::testing::MakeTempDir("setup_ro_out");
  if (geteuid() == 0) {
    // Root writes through permission bits: a file where the cache folder would go blocks it instead.
    std::ofstream(a + "/.mivla_complements") << "not a folder";
  } else {
    fs::permissions(a, fs::perms::owner_read | fs::perms::owner_exec);
  }
  const LoaderOptions o = Options(Config(out, {a, b}));
  EXPECT_EQ(fs::path(o.sources[0].complement_cache_dir), fs::path(out) / "complement_cache");
  EXPECT_EQ(fs::path(o.sources[1].complement_cache_dir), fs::path(b) / ".mivla_complements");
  EXPECT_EQ(CachedPerSource(o), (std::vector<int>{0, 0}));
  EXPECT_EQ(Files(out + "/complement_cache"), 1);
  EXPECT_EQ(CachedPerSource(Options(Config(out, {a, b}))), (std::vector<int>{1, 1}));
  fs::permissions(a, fs::perms::owner_all);
}

TEST(DataSetupTest, TheConfiguredCacheDirOverrides) {
  const std::string a = Dataset("setup_cfg", 1);
  const std::string out = data::testing::MakeTempDir("setup_cfg_out");
  TrainConfig c = Config(out, {a});
  c.cache_dir = out + "/my_cache";
  const LoaderOptions o = Options(c);
  EXPECT_EQ(o.complements.cache_dir, c.cache_dir);
  EXPECT_TRUE(o.sources[0].complement_cache_dir.empty());
  EXPECT_EQ(CachedPerSource(o), (std::vector<int>{0}));
  EXPECT_EQ(Files(c.cache_dir), 1);
  EXPECT_FALSE(fs::exists(a + "/.mivla_complements"));
  EXPECT_EQ(CachedPerSource(Options(c)), (std::vector<int>{1}));
}

TEST(DataSetupTest, ProprioDropoutIsReadAndChecked) {
  TrainConfig c = Config(data::testing::MakeTempDir("setup_dropout_out"), {Dataset("setup_dropout", 1)});
  c.augment = {{"proprio_dropout", 0.25}};
  auto o = MakeLoaderOptions(c, model::TinyConfig(), 0, 1, nullptr);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_DOUBLE_EQ(o->augment.proprio_dropout, 0.25);
  for (const nlohmann::json& bad : {nlohmann::json(1.5), nlohmann::json(-0.1), nlohmann::json("half")}) {
    c.augment = {{"proprio_dropout", bad}};
    auto err = MakeLoaderOptions(c, model::TinyConfig(), 0, 1, nullptr);
    ASSERT_FALSE(err.ok()) << bad;
    EXPECT_EQ(err.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(err.status().message().find("data.augment.proprio_dropout"), std::string::npos) << err.status();
  }
}

}  // namespace
}  // namespace mivla::trainer
