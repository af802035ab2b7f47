// ReadJsonField: absent and null fields, each type's check and its message, unsigned values.
#include "core/util/json_field.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace mivla {
namespace {

using Json = nlohmann::json;

TEST(JsonFieldTest, AbsentLeavesTheValueAndNullIsAbsentOnlyWhenAsked) {
  const Json j = {{"n", nullptr}};
  int x = 7;
  absl::StatusOr<bool> absent = ReadJsonField(j, "x", &x);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(*absent);
  EXPECT_EQ(x, 7);
  absl::StatusOr<bool> null_absent = ReadJsonField(j, "n", &x, /*null_is_absent=*/true);
  ASSERT_TRUE(null_absent.ok());
  EXPECT_FALSE(*null_absent);
  EXPECT_EQ(ReadJsonField(j, "n", &x).status().message(), "expected an integer, got null");
  EXPECT_EQ(x, 7);
}

TEST(JsonFieldTest, EachTypeIsCheckedAndNamedInTheMessage) {
  const Json j = {{"s", "text"}, {"b", true}, {"i", 4}, {"f", 4.5}, {"neg", -2}};
  std::string s;
  bool b = false;
  int i = 0;
  double f = 0;
  ASSERT_TRUE(*ReadJsonField(j, "s", &s));
  ASSERT_TRUE(*ReadJsonField(j, "b", &b));
  ASSERT_TRUE(*ReadJsonField(j, "i", &i));
  ASSERT_TRUE(*ReadJsonField(j, "i", &f));  // an integer is a number
  EXPECT_EQ(s, "text");
  EXPECT_TRUE(b);
  EXPECT_EQ(i, 4);
  EXPECT_EQ(f, 4.0);
  EXPECT_EQ(ReadJsonField(j, "i", &s).status().message(), "expected a string, got 4");
  EXPECT_EQ(ReadJsonField(j, "i", &b).status().message(), "expected true or false, got 4");
  EXPECT_EQ(ReadJsonField(j, "f", &i).status().message(), "expected an integer, got 4.5");
  EXPECT_EQ(ReadJsonField(j, "s", &f).status().message(), "expected a number, got \"text\"");
  EXPECT_EQ(ReadJsonField(j, "f", &i).status().code(), absl::StatusCode::kInvalidArgument);
  uint32_t u = 1;
  EXPECT_EQ(ReadJsonField(j, "neg", &u).status().message(), "must not be negative");
  EXPECT_EQ(u, 1u);
  ASSERT_TRUE(*ReadJsonField(j, "i", &u));
  EXPECT_EQ(u, 4u);
}

TEST(JsonFieldTest, AtAPathNamesTheFieldAndMayRequireIt) {
  const Json j = {{"width", "wide"}, {"depth", 3}};
  int v = 1;
  EXPECT_TRUE(ReadJsonFieldAt(j, "decoder", "depth", &v).ok());
  EXPECT_EQ(v, 3);
  v = 1;
  EXPECT_TRUE(ReadJsonFieldAt(j, "decoder", "heads", &v).ok()) << "absent and optional";
  EXPECT_EQ(v, 1);
  const absl::Status wrong = ReadJsonFieldAt(j, "decoder", "width", &v);
  EXPECT_EQ(wrong.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.message(), R"(decoder.width: expected an integer, got "wide")");
  EXPECT_EQ(ReadJsonFieldAt(j, "", "width", &v).message(), R"(width: expected an integer, got "wide")");
  const absl::Status missing = ReadJsonFieldAt(j, "rejected[0]", "heads", &v, /*required=*/true);
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.message(), "rejected[0].heads: missing");
  EXPECT_EQ(v, 1);
}

}  // namespace
}  // namespace mivla
