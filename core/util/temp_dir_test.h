// File: temp_dir_test.h
// TempDirTest: a gtest fixture base that gives each test an empty folder `dir_` under the system's temp
// folder (named by a prefix and the process id) and removes it afterwards. For core/util's own tests;
// the modules above core use core/data/test_util.
#ifndef MIVLA_CORE_UTIL_TEMP_DIR_TEST_H_
#define MIVLA_CORE_UTIL_TEMP_DIR_TEST_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>

namespace mivla {

class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / (prefix_ + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;

 private:
  const std::string prefix_;
};

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_TEMP_DIR_TEST_H_
