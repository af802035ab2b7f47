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

}  // namespace
}  // namespace mivla
