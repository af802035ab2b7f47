#include "core/util/flag_parser.h"

#include "gtest/gtest.h"

namespace mivla {
namespace {

TEST(FlagParserTest, ParsesEveryKindAndPositionals) {
  std::string config;
  int64_t steps = 10;
  double lr = 1e-4;
  bool resume = false, progress = true;
  FlagParser p("prog CMD [flags]");
  p.AddString("config", &config, "file");
  p.AddInt("steps", &steps, "steps");
  p.AddDouble("lr", &lr, "rate");
  p.AddBool("resume", &resume, "resume");
  p.AddBool("progress", &progress, "bar");
  ASSERT_TRUE(p.Parse({"pretrain", "--config", "a.json", "--steps=25", "--lr", "0.5", "--resume", "--no-progress"})
                  .ok());
  EXPECT_EQ(config, "a.json");
  EXPECT_EQ(steps, 25);
  EXPECT_DOUBLE_EQ(lr, 0.5);
  EXPECT_TRUE(resume);
  EXPECT_FALSE(progress);
  EXPECT_TRUE(p.seen("steps"));
  ASSERT_EQ(p.positional().size(), 1u);
  EXPECT_EQ(p.positional()[0], "pretrain");
  EXPECT_NE(p.Usage().find("--steps"), std::string::npos);
}

TEST(FlagParserTest, ErrorsNameTheFlag) {
  int64_t steps = 0;
  bool b = false;
  FlagParser p("prog");
  p.AddInt("steps", &steps, "steps");
  p.AddBool("json", &b, "json");
  absl::Status s = p.Parse({"--steps", "ten"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--steps"), std::string::npos) << s;
  FlagParser q("prog");
  q.AddInt("steps", &steps, "steps");
  EXPECT_NE(q.Parse({"--stpes", "1"}).message().find("unknown flag --stpes"), std::string::npos);
  FlagParser r("prog");
  r.AddInt("steps", &steps, "steps");
  EXPECT_NE(r.Parse({"--steps"}).message().find("needs a value"), std::string::npos);
  FlagParser t("prog");
  t.AddBool("json", &b, "json");
  EXPECT_FALSE(t.Parse({"--json=maybe"}).ok());
}

}  // namespace
}  // namespace mivla
