// File: read_file_test.cc
#include "core/util/read_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/util/temp_dir_test.h"

namespace mivla {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ReadFileTest : public TempDirTest {
 protected:
  ReadFileTest() : TempDirTest("mivla_read_file_") {}
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
};

TEST_F(ReadFileTest, ReadsEveryByteIncludingNulsAndNewlines) {
  std::string bytes("a\0b\r\n\0\xff", 7);
  for (int i = 0; i < 200000; ++i) bytes.push_back(static_cast<char>(i * 7));  // over one read() buffer
  const absl::StatusOr<std::string> got = ReadFile(Write("bin", bytes));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, bytes);
}

TEST_F(ReadFileTest, EmptyFileIsAnEmptyString) {
  const absl::StatusOr<std::string> got = ReadFile(Write("empty", ""));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "");
}

TEST_F(ReadFileTest, ProcFilesAreReadToTheEnd) {  // they report size 0
  const absl::StatusOr<std::string> got = ReadFile("/proc/self/stat");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(*got, HasSubstr(std::to_string(getpid())));
}

TEST_F(ReadFileTest, MissingFileIsNotFoundNamingThePath) {
  const std::string path = (dir_ / "none.json").string();
  const absl::Status s = ReadFile(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("'" + path + "'"));
  EXPECT_THAT(s.message(), HasSubstr("No such file or directory"));
}

TEST_F(ReadFileTest, PathThroughAFileIsNotFound) {
  const std::string path = Write("plain", "x") + "/inside";
  EXPECT_EQ(ReadFile(path).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ReadFileTest, DirectoryIsAnErrorNotAnEmptyString) {
  const absl::Status s = ReadFile(dir_.string()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr(dir_.string()));
  EXPECT_THAT(s.message(), HasSubstr("Is a directory"));
}

TEST_F(ReadFileTest, UnreadableFileIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  const std::string path = Write("secret", "x");
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  const absl::Status s = ReadFile(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr(path));
  EXPECT_THAT(s.message(), HasSubstr("Permission denied"));
}

}  // namespace
}  // namespace mivla
