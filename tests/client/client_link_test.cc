// File: client_link_test.cc
// mivla-robot stays thin: no LibTorch / c10 among its shared libraries (ldd), no server, model or
// checkpoint code linked in statically (nm), and no such library in its CMake link closure.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace {

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST(ClientLinkTest, SharedLibrariesHoldNoLibTorch) {
  const std::string ldd = RunCommand(std::string("ldd ") + MIVLA_ROBOT_BIN + " 2>&1");
  ASSERT_NE(ldd.find("libgrpc++"), std::string::npos) << "ldd output does not look right:\n" << ldd;
  for (const char* lib : {"libtorch", "libc10", "libtorch_cpu", "libgomp"}) {
    EXPECT_EQ(ldd.find(lib), std::string::npos) << lib << " is linked:\n" << ldd;
  }
}

TEST(ClientLinkTest, NoServerOrModelCodeLinkedIn) {
  const std::string syms = RunCommand(std::string("nm -C --defined-only ") + MIVLA_ROBOT_BIN + " 2>&1");
  ASSERT_NE(syms.find("mivla::client::RobotClient::Run"), std::string::npos) << "nm output does not look right";
  for (const char* ns : {"mivla::server::", "mivla::model::", "mivla::checkpoint::", "torch::", "c10::", "at::Tensor"}) {
    EXPECT_EQ(syms.find(ns), std::string::npos) << "symbols of " << ns << " are linked in";
  }
}

TEST(ClientLinkTest, LinkClosureHasNoServerOrTorchTarget) {
  std::ifstream in(MIVLA_ROBOT_CLOSURE);
  ASSERT_TRUE(in) << MIVLA_ROBOT_CLOSURE;
  std::stringstream ss;
  ss << in.rdbuf();
  int targets = 0;
  bool has_client = false;
  for (absl::string_view line : absl::StrSplit(ss.str(), '\n', absl::SkipEmpty())) {
    ++targets;
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 2u) << line;
    const std::string& name = f[0];
    const std::string& dir = f[1];
    has_client = has_client || name == "mivla_client";
    EXPECT_FALSE(absl::StrContains(name, "torch")) << name;
    for (const char* bad : {"/server", "/core/model", "/core/checkpoint", "/trainer"}) {
      EXPECT_FALSE(absl::StartsWith(dir, std::string(MIVLA_SOURCE_DIR) + bad)) << name << " from " << dir;
    }
  }
  EXPECT_TRUE(has_client);
  EXPECT_GT(targets, 10);
}

}  // namespace
