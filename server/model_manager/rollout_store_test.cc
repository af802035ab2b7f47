// RolloutStore: the persisted incumbent and rejected checkpoints, their identity (name, size, mtime),
// pruning, and clear errors for a bad state file or directory.
#include "server/model_manager/rollout_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace mivla::server {
namespace {

class RolloutStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rollout_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Touch(const std::string& name) { std::ofstream((dir_ / name).string()) << "x"; }
  std::string Dir() const { return dir_.string(); }
  std::filesystem::path dir_;
};

TEST_F(RolloutStoreTest, RecordsSurviveReopeningAndMatchNameSizeAndTime) {
  Touch("b.mivla");
  Touch("c.mivla");
  const CheckpointId b{"b.mivla", 10, 1000}, c{"c.mivla", 20, 2000};
  {
    auto store = RolloutStore::Open(Dir(), Dir(), /*writable=*/true);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_FALSE((*store)->incumbent().has_value());
    EXPECT_FALSE((*store)->IsRejected(c));
    ASSERT_TRUE((*store)->SetIncumbent(b, "v2").ok());
    ASSERT_TRUE((*store)->Reject(c, "v3", "rolled back by test").ok());
    ASSERT_TRUE((*store)->Reject(c, "v3", "again").ok());  // once only
    EXPECT_EQ((*store)->rejected_count(), 1u);
  }
  auto again = RolloutStore::Open(Dir(), Dir(), /*writable=*/false);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE((*again)->incumbent().has_value());
  EXPECT_EQ(*(*again)->incumbent(), b);
  EXPECT_TRUE((*again)->IsRejected(c));
  EXPECT_FALSE((*again)->IsRejected({"c.mivla", 21, 2000}));  // rewritten by the trainer: a new checkpoint
  EXPECT_FALSE((*again)->IsRejected({"c.mivla", 20, 2001}));
  EXPECT_FALSE((*again)->IsRejected(b));
  // Opened read-only (latest mode), it cannot record anything.
  EXPECT_EQ((*again)->Reject(b, "v2", "x").code(), absl::StatusCode::kFailedPrecondition);
  std::ifstream text(dir_ / RolloutStore::kFileName);
  std::string all((std::istreambuf_iterator<char>(text)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("\"rolled back by test\""), std::string::npos);
}

TEST_F(RolloutStoreTest, DropsRejectionsOfFilesThatLeftTheModelDirectory) {
  Touch("c.mivla");
  auto store = RolloutStore::Open(Dir(), Dir(), true);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Reject({"c.mivla", 1, 1}, "v3", "").ok());
  std::filesystem::remove(dir_ / "c.mivla");
  Touch("d.mivla");
  ASSERT_TRUE((*store)->Reject({"d.mivla", 1, 1}, "v4", "").ok());
  EXPECT_EQ((*store)->rejected_count(), 1u);
  EXPECT_FALSE((*store)->IsRejected({"c.mivla", 1, 1}));
}

TEST_F(RolloutStoreTest, SeparateStateDirectoryAndClearErrors) {
  const std::filesystem::path state = dir_ / "state";
  std::filesystem::create_directories(state);
  Touch("c.mivla");
  auto store = RolloutStore::Open(state.string(), Dir(), true);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Reject({"c.mivla", 1, 1}, "v3", "").ok());
  EXPECT_TRUE(std::filesystem::exists(state / RolloutStore::kFileName));
  EXPECT_FALSE(std::filesystem::exists(dir_ / RolloutStore::kFileName));

  auto missing = RolloutStore::Open((dir_ / "nope").string(), Dir(), true);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("--rollout-state-dir"), absl::string_view::npos);

  std::ofstream((state / RolloutStore::kFileName).string()) << "{not json";
  auto corrupt = RolloutStore::Open(state.string(), Dir(), true);
  EXPECT_EQ(corrupt.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(corrupt.status().message().find(RolloutStore::kFileName), absl::string_view::npos);
  std::ofstream((state / RolloutStore::kFileName).string()) << R"({"rejected": [{"file": "c.mivla"}]})";
  auto incomplete = RolloutStore::Open(state.string(), Dir(), true);
  EXPECT_EQ(incomplete.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(incomplete.status().message().find("rejected[0].size: missing"), absl::string_view::npos)
      << incomplete.status();
  // A field of the wrong type is named with its path and what it holds, optional ones too.
  std::ofstream((state / RolloutStore::kFileName).string())
      << R"({"rejected": [{"file": "c.mivla", "size": "1", "mtime_ns": 1}]})";
  auto wrong_type = RolloutStore::Open(state.string(), Dir(), true);
  EXPECT_EQ(wrong_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_type.status().message().find(R"(rejected[0].size: expected an integer, got "1")"),
            absl::string_view::npos)
      << wrong_type.status();
  std::ofstream((state / RolloutStore::kFileName).string())
      << R"({"incumbent": {"file": "c.mivla", "size": 1, "mtime_ns": 1, "version": 3}})";
  auto wrong_version = RolloutStore::Open(state.string(), Dir(), true);
  EXPECT_EQ(wrong_version.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_version.status().message().find("incumbent.version: expected a string, got 3"),
            absl::string_view::npos)
      << wrong_version.status();
  std::ofstream((state / RolloutStore::kFileName).string())
      << R"({"incumbent": {"file": "c.mivla", "size": 1, "mtime_ns": 1, "version": "v3"},
             "rejected": [{"file": "c.mivla", "size": 1, "mtime_ns": 1, "time_unix_us": 5, "why": "rolled back"}]})";
  auto good = RolloutStore::Open(state.string(), Dir(), true);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_TRUE((*good)->IsRejected({"c.mivla", 1, 1}));
  EXPECT_EQ((*good)->rejected_count(), 1u);
}

}  // namespace
}  // namespace mivla::server
