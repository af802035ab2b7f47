#include "server/service/refusal_log.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace mivla::server {
namespace {

TEST(RefusalLogTest, OneJsonLinePerRefusalWithBoundedValues) {
  std::vector<std::string> lines;
  RefusalLog::Options o;
  o.sink = [&](const std::string& l) { lines.push_back(l); };
  RefusalLog log(o);
  Refusal r;
  r.rpc = "Observe";
  r.status = absl::InvalidArgumentError("images[0]: JPEG size 30000x30000 exceeds 4096");
  r.session = std::string(1 << 20, 's');
  r.client = "token#2";
  r.peer = "ipv4:127.0.0.1:5000";
  r.robot_id = "arm\xff";
  ASSERT_TRUE(log.Record(r));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_LT(lines[0].size(), 600u);
  EXPECT_EQ(lines[0].back(), '\n');
  nlohmann::json j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["event"], "refused");
  EXPECT_EQ(j["rpc"], "Observe");
  EXPECT_EQ(j["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(j["field"], "images[0]");
  EXPECT_EQ(j["client"], "token#2");
  EXPECT_EQ(j["robot_id"], "arm?");
  EXPECT_THAT(j["session"].get<std::string>(), ::testing::HasSubstr("...(1048576 bytes)"));
}

TEST(RefusalLogTest, AFloodIsRateLimitedAndTheSuppressedAreCounted) {
  int written = 0;
  std::string last;
  RefusalLog::Options o;
  o.lines_per_second = 10;
  o.burst = 5;
  o.sink = [&](const std::string& l) {
    ++written;
    last = l;
  };
  RefusalLog log(o);
  Refusal r;
  r.rpc = "Act";
  r.status = absl::NotFoundError("session_id 'x' is unknown, ended or expired");
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 10000; ++i) log.Record(r, t0);  // a flood within one instant
  EXPECT_EQ(written, 5);
  EXPECT_EQ(log.suppressed_total(), 9995);
  EXPECT_TRUE(log.Record(r, t0 + absl::Seconds(1)));  // refilled
  EXPECT_EQ(nlohmann::json::parse(last)["suppressed"], 9995);
  EXPECT_EQ(nlohmann::json::parse(last)["field"], "");
}

TEST(RefusalLogTest, FieldOf) {
  EXPECT_EQ(RefusalLog::FieldOf(absl::InvalidArgumentError("proprioception.right.joint_positions[3]: 1e+300")),
            "proprioception.right.joint_positions[3]");
  EXPECT_EQ(RefusalLog::FieldOf(absl::ResourceExhaustedError("session limit reached (2 sessions): x")), "");
}

}  // namespace
}  // namespace mivla::server
