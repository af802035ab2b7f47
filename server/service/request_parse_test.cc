#include "server/service/request_parse.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mivla/v1/policy.pb.h"

namespace mivla::server {
namespace {

using ::testing::HasSubstr;

TEST(RequestParseTest, ValidRequestsParseAndBadOnesNameTheField) {
  mivla::v1::StartSessionRequest good;
  good.set_robot_id("arm-1");
  good.add_cameras()->set_name("head_camera");
  mivla::v1::StartSessionRequest parsed;
  ASSERT_TRUE(ParseRequestBytes(good.SerializeAsString(), &parsed).ok());
  EXPECT_EQ(parsed.robot_id(), "arm-1");

  absl::Status s = ParseRequestBytes(std::string("\x2a\x02\xff\xfe", 4), &parsed);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "request: not a valid mivla.v1.StartSessionRequest: robot_id: not valid UTF-8");
  // cameras[].name (nested message) with an overlong encoding.
  s = ParseRequestBytes(std::string("\x12\x04\x0a\x02\xc0\x80", 6), &parsed);
  EXPECT_THAT(s.message(), HasSubstr("cameras.name: not valid UTF-8"));
  s = ParseRequestBytes(std::string("\x2a\x7f\x41", 3), &parsed);
  EXPECT_THAT(s.message(), HasSubstr("robot_id: length runs past the end"));
  s = ParseRequestBytes(std::string("\x0b", 1), &parsed);  // field 1, wire type 3 (group)
  EXPECT_THAT(s.message(), HasSubstr("wire type 3"));
  // Every prefix of a valid message either parses or is refused with a message.
  mivla::v1::ObserveRequest obs;
  obs.set_session_id("0123456789abcdef");
  obs.set_instruction("press the bell");
  obs.mutable_proprioception()->mutable_right()->add_joint_positions(0.5);
  const std::string bytes = obs.SerializeAsString();
  for (size_t n = 0; n <= bytes.size(); ++n) {
    mivla::v1::ObserveRequest p;
    absl::Status st = ParseRequestBytes(bytes.substr(0, n), &p);
    if (!st.ok()) {
      EXPECT_THAT(st.message(), HasSubstr("request: not a valid mivla.v1.ObserveRequest"));
    }
  }
}

}  // namespace
}  // namespace mivla::server
