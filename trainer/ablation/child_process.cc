// File: child_process.cc
#include "trainer/ablation/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"

namespace mivla::trainer::ablation {

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(const ChildOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("empty command");
  const std::string& program = options.argv[0];
  if (access(program.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("'", program, "' is not an executable file (build it)"));
  }
  std::error_code ec;
  const std::filesystem::path log(options.log_path);
  if (log.has_parent_path()) std::filesystem::create_directories(log.parent_path(), ec);
  const int log_fd = open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open the log file ", options.log_path, ": ", std::strerror(errno)));
  }
  const std::string header = absl::StrCat("\n==== ", CommandLine(options.argv), "\n");
  if (write(log_fd, header.data(), header.size()) < 0) {
    // The header is informative only; the child's own output still goes to the file.
  }
  std::vector<std::string> args = options.argv;
  std::vector<char*> cargv;
  for (std::string& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork failed: ", std::strerror(errno)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    // The pipeline's own signal handling must not leak into the child.
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    execv(program.c_str(), cargv.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent, so Signal() works before the child ran
  close(log_fd);
  std::unique_ptr<ChildProcess> c(new ChildProcess());
  c->pid_ = pid;
  c->argv_ = options.argv;
  c->log_path_ = options.log_path;
  return c;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    Wait();
  }
}

bool ChildProcess::Poll() {
  if (status_) return true;
  int st = 0;
  const pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    kill(-pid_, SIGKILL);  // anything the child left behind in its group
    return true;
  }
  if (r < 0 && errno == ECHILD) {
    status_ = 0;
    return true;
  }
  return false;
}

void ChildProcess::Wait() {
  while (!status_) {
    int st = 0;
    const pid_t r = waitpid(pid_, &st, 0);
    if (r == pid_) {
      status_ = st;
      kill(-pid_, SIGKILL);
    } else if (r < 0 && errno != EINTR) {
      status_ = 0;
    }
  }
}

void ChildProcess::Signal(int sig) {
  if (!status_ && pid_ > 0) kill(-pid_, sig);
}

void ChildProcess::Terminate(double grace_s) {
  Signal(SIGTERM);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  while (!Poll()) {
    if (std::chrono::steady_clock::now() >= end) {
      Signal(SIGKILL);
      Wait();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exit ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return absl::StrCat("killed by signal ", sig, " (", strsignal(sig), ")");
  }
  return absl::StrCat("wait status ", wait_status);
}

bool ExitedOk(int wait_status) { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_not_of(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char ch : a) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
      out += '\'';
    }
  }
  return out;
}

}  // namespace mivla::trainer::ablation
