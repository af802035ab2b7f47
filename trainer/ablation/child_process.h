// File: child_process.h
// A child program for the ablation pipeline (mivla-datagen, mivla-train, mivla-server, mivla-eval):
// started with fork + execv in its own process group, standard output and error appended to a log
// file, killed with SIGKILL when the starting thread's process dies (PR_SET_PDEATHSIG), so a killed
// pipeline never leaves a trainer writing into a directory a re-run is about to use.
//
//   ChildOptions o; o.argv = {"build/bin/mivla-datagen", "--list"}; o.log_path = "logs/x.log";
//   ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> c, ChildProcess::Start(o));
//   while (!c->Poll()) { ...; if (deadline) c->Signal(SIGTERM); }
//   int status = *c->exit_status();          // waitpid status
//
// Ownership: the ChildProcess owns the process; destroying a running one SIGKILLs its process group
// and reaps it. Thread-compatible (one thread drives it).
#ifndef MIVLA_TRAINER_ABLATION_CHILD_PROCESS_H_
#define MIVLA_TRAINER_ABLATION_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mivla::trainer::ablation {

struct ChildOptions {
  std::vector<std::string> argv;  // argv[0] is the program's path
  std::string log_path;           // stdout + stderr, appended (the directory is created)
};

class ChildProcess {
 public:
  /// NOT_FOUND when argv[0] is not executable; INTERNAL when fork or the log file fails.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const ChildOptions& options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// True once the child has exited (reaped; non-blocking).
  bool Poll();
  /// Blocks until the child exits; then exit_status() is set.
  void Wait();
  /// Sends `sig` to the child's process group (no-op once it exited).
  void Signal(int sig);
  /// SIGTERM, then SIGKILL if it has not exited after `grace_s`; returns when it is reaped.
  void Terminate(double grace_s);

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }
  const std::string& log_path() const { return log_path_; }
  /// The waitpid status once exited.
  std::optional<int> exit_status() const { return status_; }

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  std::vector<std::string> argv_;
  std::string log_path_;
  std::optional<int> status_;
};

/// "exit 0", "exit 2", "killed by signal 9 (Killed)".
std::string DescribeExit(int wait_status);
/// True for a clean exit with code 0.
bool ExitedOk(int wait_status);
/// The command line as one shell-quoted string (for messages and logs).
std::string CommandLine(const std::vector<std::string>& argv);

}  // namespace mivla::trainer::ablation

#endif  // MIVLA_TRAINER_ABLATION_CHILD_PROCESS_H_
