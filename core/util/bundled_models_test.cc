// File: bundled_models_test.cc
#include "core/util/bundled_models.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/util/temp_dir_test.h"

namespace mivla {
namespace {

namespace fs = std::filesystem;

class BundledModelsTest : public TempDirTest {
 protected:
  BundledModelsTest() : TempDirTest("mivla_bundled_") {}
  void TearDown() override {
    TempDirTest::TearDown();
    unsetenv("MIVLA_MODEL_DIR");
  }
  void Touch(const std::string& name) { std::ofstream(dir_ / name) << "x"; }
};

TEST_F(BundledModelsTest, EnvironmentWinsOverTheRepositoryFolder) {
  unsetenv("MIVLA_MODEL_DIR");
  EXPECT_EQ(BundledModelDir(), MIVLA_MODELS_DIR);
  EXPECT_EQ(fs::path(BundledModelDir()).filename(), "models");
  setenv("MIVLA_MODEL_DIR", dir_.c_str(), 1);
  EXPECT_EQ(BundledModelDir(), dir_.string());
  setenv("MIVLA_MODEL_DIR", "", 1);  // empty = not set
  EXPECT_EQ(BundledModelDir(), MIVLA_MODELS_DIR);
}

TEST_F(BundledModelsTest, OnlyVisibleCheckpointFilesCount) {
  EXPECT_FALSE(HoldsCheckpoint(dir_.string()));
  EXPECT_FALSE(HoldsCheckpoint((dir_ / "missing").string()));
  Touch("README.md");
  Touch(".tmp-write.mivla");  // the checkpoint writer's temporary
  fs::create_directories(dir_ / "old.mivla");
  EXPECT_FALSE(HoldsCheckpoint(dir_.string()));
  Touch("tiny.mivla");
  EXPECT_TRUE(HoldsCheckpoint(dir_.string()));
}

}  // namespace
}  // namespace mivla
