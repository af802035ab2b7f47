#include "core/util/log.h"

#include <string>

#include "gtest/gtest.h"

namespace mivla {
namespace {

TEST(LogTest, WritesOneTimestampedLinePerEvent) {
  testing::internal::CaptureStderr();
  LogWarning("unit", "first");
  LogError("unit", "second");
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("Z W unit: first\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Z E unit: second\n"), std::string::npos) << out;
  EXPECT_EQ(out.substr(0, 2), "20") << out;  // ISO 8601 year first
}

TEST(LogTest, QuietDropsInfoButKeepsErrors) {
  SetLogQuiet(true);
  testing::internal::CaptureStderr();
  LogInfo("unit", "hidden");
  LogError("unit", "shown");
  std::string out = testing::internal::GetCapturedStderr();
  SetLogQuiet(false);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("shown"), std::string::npos);
}

TEST(LogTest, FileTakesTheLinesUntilReset) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  SetLogFile(f);
  testing::internal::CaptureStderr();
  LogWarning("unit", "to the file");
  SetLogFile(nullptr);
  LogWarning("unit", "to stderr");
  const std::string err = testing::internal::GetCapturedStderr();
  std::rewind(f);
  char buf[256] = {};
  const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  const std::string in_file(buf, n);
  EXPECT_NE(in_file.find("W unit: to the file\n"), std::string::npos) << in_file;
  EXPECT_EQ(in_file.find("to stderr"), std::string::npos);
  EXPECT_EQ(err.find("to the file"), std::string::npos) << err;
  EXPECT_NE(err.find("W unit: to stderr"), std::string::npos) << err;
}

}  // namespace
}  // namespace mivla
