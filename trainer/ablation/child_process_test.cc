// File: child_process_test.cc
#include "trainer/ablation/child_process.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::trainer::ablation {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ChildProcessTest, OutputGoesToTheLogAndTheExitIsReported) {
  char tmpl[] = "/tmp/child_process_test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string log = std::string(tmpl) + "/logs/x.log";
  auto c = ChildProcess::Start({{"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, log});
  ASSERT_TRUE(c.ok()) << c.status();
  (*c)->Wait();
  EXPECT_EQ(DescribeExit(*(*c)->exit_status()), "exit 3");
  EXPECT_FALSE(ExitedOk(*(*c)->exit_status()));
  const std::string text = ReadAll(log);
  EXPECT_THAT(text, HasSubstr("==== /bin/sh -c 'echo out; echo err >&2; exit 3'"));
  EXPECT_THAT(text, HasSubstr("out\n"));
  EXPECT_THAT(text, HasSubstr("err\n"));
  std::filesystem::remove_all(tmpl);
}

TEST(ChildProcessTest, TerminateEscalatesToSigkill) {
  auto c = ChildProcess::Start({{"/bin/sh", "-c", "trap '' TERM; sleep 30"}, "/dev/null"});
  ASSERT_TRUE(c.ok()) << c.status();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE((*c)->Poll());
  const auto t0 = std::chrono::steady_clock::now();
  (*c)->Terminate(0.5);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 5.0);
  ASSERT_TRUE((*c)->exit_status().has_value());
  EXPECT_TRUE(WIFSIGNALED(*(*c)->exit_status()));
  EXPECT_THAT(DescribeExit(*(*c)->exit_status()), HasSubstr("signal 9"));
}

TEST(ChildProcessTest, SigtermEndsAPlainChild) {
  auto c = ChildProcess::Start({{"/bin/sleep", "30"}, "/dev/null"});
  ASSERT_TRUE(c.ok()) << c.status();
  (*c)->Terminate(10);
  EXPECT_TRUE(WIFSIGNALED(*(*c)->exit_status()));
  EXPECT_EQ(WTERMSIG(*(*c)->exit_status()), SIGTERM);
}

TEST(ChildProcessTest, MissingProgramIsNamed) {
  auto c = ChildProcess::Start({{"/nonexistent/mivla-datagen"}, "/dev/null"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("/nonexistent/mivla-datagen"));
  EXPECT_EQ(CommandLine({"a", "b c", "it's"}), "a 'b c' 'it'\\''s'");
}

}  // namespace
}  // namespace mivla::trainer::ablation
