#include "core/util/openmp_wait.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace mivla {
namespace {

using ::testing::HasSubstr;

struct ProbeRun {
  pid_t pid = 0;
  std::string out;
};

// Runs the probe with this process's environment minus OMP_WAIT_POLICY, plus `extra` entries.
ProbeRun RunProbe(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind(absl::StrCat(kOpenMpWaitPolicyVar, "="), 0) != 0) env.emplace_back(*e);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string path = MIVLA_OPENMP_WAIT_PROBE, a1 = "x", a2 = "y";
  char* argv[] = {path.data(), a1.data(), a2.data(), nullptr};
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  ProbeRun run;
  EXPECT_EQ(::posix_spawn(&run.pid, path.c_str(), &fa, nullptr, argv, envp.data()), 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) run.out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(run.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << run.out;
  return run;
}

TEST(OpenMpWaitTest, UnsetPolicyReExecutesTheSameProcessWithPassive) {
  const ProbeRun r = RunProbe({});
  // Two starts (the original and the re-executed image), one run, all under the spawned pid, with
  // the arguments kept.
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("start pid=", r.pid, " policy=(unset)\n")));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("start pid=", r.pid, " policy=PASSIVE\n")));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("running pid=", r.pid, " policy=PASSIVE args=3\n")));
}

TEST(OpenMpWaitTest, AnOperatorsChoiceIsKeptWithoutReExecuting) {
  const ProbeRun r = RunProbe({absl::StrCat(kOpenMpWaitPolicyVar, "=ACTIVE")});
  EXPECT_EQ(r.out, absl::StrCat("start pid=", r.pid, " policy=ACTIVE\nrunning pid=", r.pid,
                                " policy=ACTIVE args=3\n"));
}

}  // namespace
}  // namespace mivla
