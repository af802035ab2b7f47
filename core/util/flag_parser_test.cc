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

TEST(FlagParserTest, FlagsOnlyHasHelpAndRefusesPositionals) {
  std::string server;
  int64_t port = 0;
  auto parse = [&](std::vector<const char*> args, FlagParser* p) {
    args.insert(args.begin(), "prog");
    return p->ParseFlagsOnly(static_cast<int>(args.size()), args.data());
  };
  FlagParser p("prog --server HOST:PORT");
  p.AddString("server", &server, "the server");
  p.AddInt("metrics-port", &port, "port");
  ASSERT_TRUE(parse({"--server", "h:1", "--metrics-port", "-1"}, &p).ok());
  EXPECT_EQ(server, "h:1");
  EXPECT_EQ(port, -1);  // a value that starts with '-' is still the flag's value
  EXPECT_FALSE(p.help_requested());
  EXPECT_NE(p.Usage().find("--help"), std::string::npos);

  for (const char* help : {"--help", "-h"}) {
    FlagParser h("prog");
    ASSERT_TRUE(parse({help}, &h).ok()) << help;
    EXPECT_TRUE(h.help_requested()) << help;
  }
  FlagParser q("prog");
  absl::Status s = parse({"stray"}, &q);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "unexpected argument 'stray' (flags start with --; see --help)");
  FlagParser r("prog");
  EXPECT_EQ(parse({"--frobnicate"}, &r).message(), "unknown flag --frobnicate (see --help)");
  FlagParser t("prog");
  t.AddInt("metrics-port", &port, "port");
  EXPECT_EQ(parse({"--metrics-port", "x"}, &t).message(), "--metrics-port: 'x' is not an integer");
  EXPECT_EQ(parse({"--metrics-port"}, &t).message(), "--metrics-port needs a value");
}

TEST(FlagParserTest, MainHelpersPrintHelpOrTheErrorAndGiveTheExitStatus) {
  auto argv = [](std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    return args;
  };
  int64_t n = 0;
  {
    FlagParser p("prog [--n N]");
    p.AddInt("n", &n, "a count");
    std::vector<const char*> a = argv({"--n", "x", "--help"});  // help wins over a bad value
    testing::internal::CaptureStdout();
    absl::StatusOr<bool> helped = p.ParseFlagsOrPrintHelp(static_cast<int>(a.size()), a.data(), "Exit status: 0.\n");
    const std::string out = testing::internal::GetCapturedStdout();
    ASSERT_TRUE(helped.ok()) << helped.status();
    EXPECT_TRUE(*helped);
    EXPECT_EQ(out, p.Usage() + "Exit status: 0.\n");
  }
  {
    FlagParser p("prog [--n N]");
    p.AddInt("n", &n, "a count");
    std::vector<const char*> a = argv({"--n", "7"});
    absl::StatusOr<bool> helped = p.ParseFlagsOrPrintHelp(static_cast<int>(a.size()), a.data());
    ASSERT_TRUE(helped.ok());
    EXPECT_FALSE(*helped);
    EXPECT_EQ(n, 7);
    std::vector<const char*> bad = argv({"--n", "x"});
    FlagParser q("prog [--n N]");
    q.AddInt("n", &n, "a count");
    EXPECT_EQ(q.ParseFlagsOrPrintHelp(static_cast<int>(bad.size()), bad.data()).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  {
    FlagParser p("prog [--n N]");
    p.AddInt("n", &n, "a count");
    std::vector<const char*> a = argv({"--frobnicate"});
    testing::internal::CaptureStderr();
    std::optional<int> exit = p.ParseFlagsForMain(static_cast<int>(a.size()), a.data(), "mivla-x");
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "mivla-x: unknown flag --frobnicate (see --help)\n");
    EXPECT_EQ(exit, std::optional<int>(2));
    FlagParser h("prog");
    std::vector<const char*> ha = argv({"-h"});
    testing::internal::CaptureStdout();
    EXPECT_EQ(h.ParseFlagsForMain(static_cast<int>(ha.size()), ha.data(), "mivla-x"), std::optional<int>(0));
    EXPECT_EQ(testing::internal::GetCapturedStdout(), h.Usage());
    FlagParser ok("prog");
    std::vector<const char*> none = argv({});
    EXPECT_EQ(ok.ParseFlagsForMain(static_cast<int>(none.size()), none.data(), "mivla-x"), std::nullopt);
  }
}

}  // namespace
}  // namespace mivla
