// File: server_child.h
// For tests, benchmarks and mivla-demo: runs `mivla-server --random-init --config tiny` (Start) or
// `mivla-server <model flags>` (StartServing, e.g. {"--model-dir", "models"}) as a child process on
// 127.0.0.1 (a given port, so a killed server can come back on the same one), waits for its
// {"event":"listening",...} line, and kills it with SIGKILL on Kill() or destruction (Terminate: SIGTERM,
// the server drains and exits). The child also
// dies with the thread that started it (PR_SET_PDEATHSIG): start it from a thread that outlives its
// use. Its stderr goes to a log file.
// Not thread-safe.
#ifndef MIVLA_CLIENT_TOOLS_SERVER_CHILD_H_
#define MIVLA_CLIENT_TOOLS_SERVER_CHILD_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace mivla::client {

/// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

class ServerProcess {
 public:
  /// `port` 0: the server picks one (reported in port()).
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const std::string& binary, int port,
                                                              const std::string& log_path,
                                                              const std::vector<std::string>& extra_flags = {},
                                                              int timeout_s = 90);
  /// As Start, with `model_flags` in place of `--random-init --config tiny`.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> StartServing(const std::string& binary,
                                                                     const std::vector<std::string>& model_flags,
                                                                     int port, const std::string& log_path,
                                                                     const std::vector<std::string>& extra_flags = {},
                                                                     int timeout_s = 90);
  ~ServerProcess();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  /// SIGKILL and reap. Idempotent.
  void Kill();
  /// SIGTERM, then wait up to `timeout_s` for the server to drain and exit (SIGKILL after that). Returns
  /// its exit status (128 + signal when killed by one; -1 when it had already been reaped).
  int Terminate(int timeout_s);
  /// GET /metrics from the server's metrics port ("" on failure).
  std::string ScrapeMetrics() const;

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
  int out_fd_ = -1;
  std::thread drain_;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_TOOLS_SERVER_CHILD_H_
