#include "server/inference/string_checks.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

using ::testing::HasSubstr;

TEST(StringChecksTest, Utf8Validity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("press the bell"));
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9llo \xF0\x9F\xA4\x96"));  // é, robot emoji
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(IsValidUtf8("ab\xC3"));            // cut sequence
}

TEST(StringChecksTest, EchoIsBoundedAndPrintable) {
  const std::string big(1 << 20, 'x');
  const std::string echo = ClipForEcho(big, 64);
  EXPECT_LT(echo.size(), 100u);
  EXPECT_THAT(echo, HasSubstr("...(1048576 bytes)"));
  EXPECT_EQ(ClipForEcho("short", 64), "short");
  EXPECT_EQ(ClipForEcho("a\nb\xFF", 64), "a?b?");
  // Never cuts a character in half.
  EXPECT_EQ(ClipForEcho("\xC3\xA9\xC3\xA9", 3), "\xC3\xA9...(4 bytes)");
}

TEST(StringChecksTest, CheckStringNamesFieldAndFlag) {
  EXPECT_TRUE(CheckString("abc", "robot_id", 3, "--max-robot-id-bytes").ok());
  absl::Status s = CheckString("abcd", "robot_id", 3, "--max-robot-id-bytes");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "robot_id: 4 bytes; at most 3 (--max-robot-id-bytes)");
  EXPECT_EQ(CheckString("\xFF", "task", 3, "--max-task-bytes").message(), "task: not valid UTF-8");
}

}  // namespace
}  // namespace mivla::server
