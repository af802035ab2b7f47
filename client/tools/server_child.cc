// File: server_child.cc
#include "client/tools/server_child.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace mivla::client {

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(const std::string& binary, int port,
                                                                    const std::string& log_path,
                                                                    const std::vector<std::string>& extra_flags,
                                                                    int timeout_s) {
  return StartServing(binary, {"--random-init", "--config", "tiny"}, port, log_path, extra_flags, timeout_s);
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::StartServing(const std::string& binary,
                                                                           const std::vector<std::string>& model_flags,
                                                                           int port, const std::string& log_path,
                                                                           const std::vector<std::string>& extra_flags,
                                                                           int timeout_s) {
  if (access(binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("mivla-server binary '", binary, "' is not executable (build it)"));
  }
  int pipefd[2];
  if (pipe(pipefd) != 0) return absl::InternalError("pipe failed");
  std::vector<std::string> args = {binary};
  args.insert(args.end(), model_flags.begin(), model_flags.end());
  for (std::string f : {std::string("--port"), std::to_string(port), std::string("--metrics-port"), std::string("0")}) {
    args.push_back(std::move(f));
  }
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    dup2(pipefd[1], STDOUT_FILENO);
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) dup2(log, STDERR_FILENO);
    close(pipefd[0]);
    std::vector<char*> argv;
    for (std::string& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->pid_ = pid;
  p->out_fd_ = pipefd[0];
  std::string buf;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{p->out_fd_, POLLIN, 0};
    if (poll(&pfd, 1, 200) <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(p->out_fd_, chunk, sizeof(chunk));
    if (n <= 0) break;  // the server exited
    buf.append(chunk, n);
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      const std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.value("event", "") == "listening") {
        p->port_ = j.value("port", 0);
        p->metrics_port_ = j.value("metrics_port", 0);
        const int fd = p->out_fd_;
        p->drain_ = std::thread([fd] {
          char sink[1024];
          while (read(fd, sink, sizeof(sink)) > 0) {
          }
        });
        return p;
      }
    }
  }
  return absl::DeadlineExceededError(
      absl::StrCat("mivla-server did not report listening within ", timeout_s, " s (log: ", log_path, ")"));
}

void ServerProcess::Kill() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (drain_.joinable()) drain_.join();
  if (out_fd_ >= 0) {
    close(out_fd_);
    out_fd_ = -1;
  }
}

int ServerProcess::Terminate(int timeout_s) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  pid_t done = 0;
  while ((done = waitpid(pid_, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (done == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  Kill();  // joins the drain thread, closes the pipe
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ServerProcess::~ServerProcess() { Kill(); }

std::string ServerProcess::ScrapeMetrics() const {
  httplib::Client c("127.0.0.1", metrics_port_);
  auto r = c.Get("/metrics");
  return r && r->status == 200 ? r->body : "";
}

}  // namespace mivla::client
