#include "server/model_manager/model_manager.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <torch/torch.h>

#include "gtest/gtest.h"
#include "core/tokenizer/tokenizer.h"

namespace mivla::server {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ModelManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mm_test_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    spm_ = ReadFile(tokenizer::kTinyTokenizerModelPath);
    ASSERT_FALSE(spm_.empty());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& version, uint64_t seed) {
    checkpoint::PolicyBundle b;
    b.model_version = version;
    b.config = *model::ConfigByName("tiny");
    torch::manual_seed(seed);
    b.model = model::MivlaModel(b.config);
    b.tokenizer_model = spm_;
    const std::string path = (dir_ / name).string();
    EXPECT_TRUE(checkpoint::SaveModelCheckpoint(path, b).ok());
    return path;
  }
  void WriteRaw(const std::string& name, const std::string& bytes) {
    std::ofstream((dir_ / name).string(), std::ios::binary) << bytes;
  }
  ModelManager::Options Opts() {
    ModelManager::Options o;
    o.model_dir = dir_.string();
    o.poll_interval = absl::ZeroDuration();  // tests poll by hand
    o.settle_time = absl::ZeroDuration();
    o.warm_batch_size = 2;
    return o;
  }

  std::filesystem::path dir_;
  std::string spm_;
};

TEST_F(ModelManagerTest, RandomInitServesWithoutDirectory) {
  ModelManager::Options o;
  o.random_init = true;
  o.model.fallback_tokenizer = ReadFile(tokenizer::kTinyTokenizerModelPath);
  o.warm_batch_size = 2;
  auto mm = ModelManager::Create(o);
  ASSERT_TRUE(mm.ok()) << mm.status();
  ASSERT_TRUE((*mm)->Start().ok());
  ASSERT_NE((*mm)->current(), nullptr);
  EXPECT_EQ((*mm)->current()->version(), "random-init-tiny-seed1");
}

TEST_F(ModelManagerTest, RequiresDirectoryOrRandomInit) {
  EXPECT_EQ(ModelManager::Create(ModelManager::Options{}).status().code(), absl::StatusCode::kInvalidArgument);
  ModelManager::Options o;
  o.model_dir = (dir_ / "missing").string();
  EXPECT_EQ(ModelManager::Create(o).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ModelManagerTest, NewestLoadableWinsAndBadFilesKeepTheServingVersion) {
  Write("a.mivla", "v1", 1);
  auto mm = ModelManager::Create(Opts());
  ASSERT_TRUE(mm.ok());
  ASSERT_TRUE((*mm)->Start().ok());
  std::shared_ptr<const LoadedModel> v1 = (*mm)->current();
  ASSERT_EQ(v1->version(), "v1");

  // A corrupt and a truncated checkpoint: counted as failed, v1 keeps serving.
  std::string good = ReadFile((dir_ / "a.mivla").string());
  std::string corrupt = good;
  corrupt[corrupt.size() / 2] ^= 0x5a;
  WriteRaw("b.mivla", corrupt);
  EXPECT_FALSE((*mm)->PollOnce());
  WriteRaw("c.mivla", good.substr(0, good.size() / 3));
  EXPECT_FALSE((*mm)->PollOnce());
  EXPECT_EQ((*mm)->current()->version(), "v1");
  EXPECT_EQ((*mm)->reloads_failed(), 2);
  EXPECT_FALSE((*mm)->PollOnce());  // failed files are not retried while unchanged
  EXPECT_EQ((*mm)->reloads_failed(), 2);
  // Dot-files (the writer's temporaries) and other extensions are ignored.
  WriteRaw(".d.mivla.tmp.123", "junk");
  WriteRaw("notes.txt", "junk");
  EXPECT_FALSE((*mm)->PollOnce());
  EXPECT_EQ((*mm)->reloads_failed(), 2);

  Write("d.mivla", "v2", 2);
  EXPECT_TRUE((*mm)->PollOnce());
  EXPECT_EQ((*mm)->current()->version(), "v2");
  EXPECT_EQ((*mm)->reloads_ok(), 1);

  // The caller still holding v1 can still run it; once it lets go, v1 is freed.
  std::weak_ptr<const LoadedModel> weak = v1;
  EXPECT_TRUE(v1->Warm(1).ok());
  v1.reset();
  EXPECT_TRUE(weak.expired());
}

TEST_F(ModelManagerTest, StartsOnOlderFileWhenNewestIsBrokenAndWaitsWhenNoneLoads) {
  auto empty = ModelManager::Create(Opts());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->Start().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*empty)->current(), nullptr);
  Write("a.mivla", "v1", 1);
  EXPECT_TRUE((*empty)->PollOnce());
  EXPECT_EQ((*empty)->current()->version(), "v1");

  sleep(1);  // distinct modification times
  WriteRaw("z.mivla", "not a checkpoint");
  auto mm = ModelManager::Create(Opts());
  ASSERT_TRUE((*mm)->Start().ok());
  EXPECT_EQ((*mm)->current()->version(), "v1");
  EXPECT_EQ((*mm)->reloads_failed(), 1);
}

TEST_F(ModelManagerTest, PollThreadPicksUpNewVersionAndRequestReloadWakesIt) {
  Write("a.mivla", "v1", 1);
  ModelManager::Options o = Opts();
  o.poll_interval = absl::Hours(1);  // only RequestReload can make it scan in time
  auto mm = ModelManager::Create(o);
  ASSERT_TRUE((*mm)->Start().ok());
  Write("b.mivla", "v2", 2);
  (*mm)->RequestReload();
  for (int i = 0; i < 200 && (*mm)->current()->version() != "v2"; ++i) absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ((*mm)->current()->version(), "v2");
  (*mm)->Stop();
}

}  // namespace
}  // namespace mivla::server
