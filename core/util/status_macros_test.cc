#include "core/util/status_macros.h"

#include <string>

#include "core/util/status_prefix.h"
#include "gtest/gtest.h"

namespace mivla {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

absl::Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesValueAndError) {
  EXPECT_EQ(*Quarter(8), 2);
  absl::StatusOr<int> bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "odd: 3");
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtFirstError) {
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(5).code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatusPrefixTest, KeepsTheCodeAndPutsTheContextFirst) {
  const absl::Status s = WithPrefix(absl::NotFoundError("/x: No such file"), "--token-file: ");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "--token-file: /x: No such file");
  EXPECT_EQ(WithPrefix(Quarter(6).status(), "quarter: ").message(), "quarter: odd: 3");
  EXPECT_TRUE(WithPrefix(absl::OkStatus(), "never: ").ok());
  EXPECT_EQ(WithPrefix(absl::OkStatus(), "never: ").message(), "");
}

}  // namespace
}  // namespace mivla
