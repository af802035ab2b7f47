// ModelManager on the fake runtime (server/runtime_api/fake_policy_runtime.h): version policy, failed
// loads and warm-ups, the poll thread. Loading real checkpoints is covered by the LibTorch runtime's
// tests and the hot-reload integration test (server/service/reload_overload_test.cc).
#include "server/model_manager/model_manager.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "server/runtime_api/fake_policy_runtime.h"

namespace mivla::server {
namespace {

class ModelManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mm_test_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    loader_ = std::make_shared<FakeRuntimeLoader>();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream((dir_ / name).string(), std::ios::binary) << bytes;
  }
  ModelManager::Options Opts() {
    ModelManager::Options o;
    o.model_dir = dir_.string();
    o.poll_interval = absl::ZeroDuration();  // tests poll by hand
    o.settle_time = absl::ZeroDuration();
    o.warm_batch_size = 2;
    o.loader = loader_;
    return o;
  }

  std::filesystem::path dir_;
  std::shared_ptr<FakeRuntimeLoader> loader_;
};

TEST_F(ModelManagerTest, RandomInitServesWithoutDirectory) {
  ModelManager::Options o;
  o.random_init = true;
  o.warm_batch_size = 2;
  o.loader = loader_;
  auto mm = ModelManager::Create(o);
  ASSERT_TRUE(mm.ok()) << mm.status();
  ASSERT_TRUE((*mm)->Start().ok());
  ASSERT_NE((*mm)->current(), nullptr);
  EXPECT_EQ((*mm)->current()->info().version, "random-init-tiny-seed1");
}

TEST_F(ModelManagerTest, RequiresDirectoryOrRandomInitAndALoader) {
  ModelManager::Options none;
  none.loader = loader_;
  EXPECT_EQ(ModelManager::Create(none).status().code(), absl::StatusCode::kInvalidArgument);
  ModelManager::Options o = Opts();
  o.model_dir = (dir_ / "missing").string();
  EXPECT_EQ(ModelManager::Create(o).status().code(), absl::StatusCode::kNotFound);
  o = Opts();
  o.loader = nullptr;
  absl::Status no_loader = ModelManager::Create(o).status();
  EXPECT_EQ(no_loader.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_loader.message().find("runtime loader"), std::string::npos);
}

TEST_F(ModelManagerTest, NewestLoadableWinsAndBadFilesKeepTheServingVersion) {
  Write("a.mivla", FakeCheckpoint("v1"));
  auto mm = ModelManager::Create(Opts());
  ASSERT_TRUE(mm.ok());
  ASSERT_TRUE((*mm)->Start().ok());
  std::shared_ptr<const PolicyRuntime> v1 = (*mm)->current();
  ASSERT_EQ(v1->info().version, "v1");

  // A file that is not a checkpoint, one that fails to load and one that fails its warm-up: each is
  // counted as failed and v1 keeps serving.
  Write("b.mivla", "\x01\x02 not a checkpoint");
  EXPECT_FALSE((*mm)->PollOnce());
  Write("c.mivla", FakeCheckpoint("v-load", R"("fail": "load")"));
  EXPECT_FALSE((*mm)->PollOnce());
  Write("d.mivla", FakeCheckpoint("v-warm", R"("fail": "warm")"));
  EXPECT_FALSE((*mm)->PollOnce());
  EXPECT_EQ((*mm)->current()->info().version, "v1");
  EXPECT_EQ((*mm)->reloads_failed(), 3);
  const int64_t loads = loader_->loads();
  EXPECT_FALSE((*mm)->PollOnce());  // failed files are not retried while unchanged
  EXPECT_EQ((*mm)->reloads_failed(), 3);
  EXPECT_EQ(loader_->loads(), loads);
  // Dot-files (the writer's temporaries) and other extensions are ignored.
  Write(".e.mivla.tmp.123", FakeCheckpoint("hidden"));
  Write("notes.txt", FakeCheckpoint("text"));
  EXPECT_FALSE((*mm)->PollOnce());
  EXPECT_EQ((*mm)->reloads_failed(), 3);
  EXPECT_EQ(loader_->loads(), loads);

  Write("f.mivla", FakeCheckpoint("v2"));
  EXPECT_TRUE((*mm)->PollOnce());
  EXPECT_EQ((*mm)->current()->info().version, "v2");
  EXPECT_EQ((*mm)->reloads_ok(), 1);

  // The caller still holding v1 can still run it; once it lets go, v1 is freed.
  std::weak_ptr<const PolicyRuntime> weak = v1;
  EXPECT_TRUE(v1->Warm(1).ok());
  v1.reset();
  EXPECT_TRUE(weak.expired());
}

TEST_F(ModelManagerTest, StartsOnOlderFileWhenNewestIsBrokenAndWaitsWhenNoneLoads) {
  auto empty = ModelManager::Create(Opts());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->Start().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*empty)->current(), nullptr);
  Write("a.mivla", FakeCheckpoint("v1"));
  EXPECT_TRUE((*empty)->PollOnce());
  EXPECT_EQ((*empty)->current()->info().version, "v1");

  sleep(1);  // distinct modification times
  Write("z.mivla", "not a checkpoint");
  auto mm = ModelManager::Create(Opts());
  ASSERT_TRUE((*mm)->Start().ok());
  EXPECT_EQ((*mm)->current()->info().version, "v1");
  EXPECT_EQ((*mm)->reloads_failed(), 1);
}

TEST_F(ModelManagerTest, PollThreadPicksUpNewVersionAndRequestReloadWakesIt) {
  Write("a.mivla", FakeCheckpoint("v1"));
  ModelManager::Options o = Opts();
  o.poll_interval = absl::Hours(1);  // only RequestReload can make it scan in time
  auto mm = ModelManager::Create(o);
  ASSERT_TRUE((*mm)->Start().ok());
  Write("b.mivla", FakeCheckpoint("v2"));
  (*mm)->RequestReload();
  for (int i = 0; i < 200 && (*mm)->current()->info().version != "v2"; ++i) absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ((*mm)->current()->info().version, "v2");
  (*mm)->Stop();
}

TEST_F(ModelManagerTest, FilesStillSettlingWaitForTheNextPoll) {
  Write("a.mivla", FakeCheckpoint("v1"));
  ModelManager::Options o = Opts();
  o.settle_time = absl::Hours(1);
  auto mm = ModelManager::Create(o);
  ASSERT_TRUE((*mm)->Start().ok());  // the first load does not wait
  sleep(1);
  Write("b.mivla", FakeCheckpoint("v2"));
  EXPECT_FALSE((*mm)->PollOnce());  // younger than settle_time: not tried, not failed
  EXPECT_EQ((*mm)->current()->info().version, "v1");
  EXPECT_EQ((*mm)->reloads_failed(), 0);
}

}  // namespace
}  // namespace mivla::server
