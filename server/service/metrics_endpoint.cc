#include "server/service/metrics_endpoint.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/util/thread_name.h"

namespace mivla::server {

struct MetricsEndpoint::Connection {
  int fd = -1;
  absl::Time deadline;
  std::string in;
  std::string out;
  size_t sent = 0;
  bool writing = false;
};

namespace {

constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

std::string Response(int code, const char* reason, const char* type, const std::string& body) {
  return absl::StrCat("HTTP/1.1 ", code, " ", reason, "\r\nContent-Type: ", type, "\r\nContent-Length: ", body.size(),
                      "\r\nConnection: close\r\n\r\n", body);
}

std::string Answer(const std::string& head, const metrics::Registry& registry) {
  const size_t eol = head.find("\r\n");
  const std::string line = head.substr(0, eol);
  if (!absl::StartsWith(line, "GET ") && !absl::StartsWith(line, "HEAD ")) {
    return Response(405, "Method Not Allowed", "text/plain", "GET only\n");
  }
  const size_t sp = line.find(' ');
  std::string path = line.substr(sp + 1, line.find(' ', sp + 1) - sp - 1);
  if (const size_t q = path.find('?'); q != std::string::npos) path.resize(q);
  if (path == "/metrics") return Response(200, "OK", kContentType, registry.Expose());
  if (path == "/healthz") return Response(200, "OK", "text/plain; charset=utf-8", "ok\n");
  return Response(404, "Not Found", "text/plain", "try /metrics\n");
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(Options o) {
  if (o.registry == nullptr) return absl::InvalidArgumentError("metrics endpoint: a registry is required");
  if (o.port < 0 || o.port > 65535) return absl::InvalidArgumentError(absl::StrCat("--metrics-port: ", o.port, " not in [0, 65535]"));
  if (o.max_connections < 1 || o.deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("metrics endpoint: max_connections >= 1 and a positive deadline are required");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* ai = nullptr;
  const std::string port = absl::StrCat(o.port);
  if (getaddrinfo(o.bind_address.c_str(), port.c_str(), &hints, &ai) != 0 || ai == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics-address: '", o.bind_address,
                                                   "' is not an IPv4 or IPv6 address"));
  }
  std::unique_ptr<MetricsEndpoint> ep(new MetricsEndpoint(o));
  ep->listen_fd_ = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(ep->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool bound = ep->listen_fd_ >= 0 && bind(ep->listen_fd_, ai->ai_addr, ai->ai_addrlen) == 0 &&
                     listen(ep->listen_fd_, 128) == 0;
  freeaddrinfo(ai);
  if (!bound) {
    return absl::UnavailableError(absl::StrCat("metrics endpoint: cannot listen on ", o.bind_address, ":", o.port, ": ",
                                               std::strerror(errno)));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(ep->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  ep->port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (pipe2(ep->wake_fds_, O_NONBLOCK | O_CLOEXEC) != 0) return absl::InternalError("metrics endpoint: pipe failed");
  ep->thread_ = StartNamedThread("metrics-http", [p = ep.get()] { p->Loop(); });
  return ep;
}

MetricsEndpoint::~MetricsEndpoint() {
  Stop();
  for (int fd : {listen_fd_, wake_fds_[0], wake_fds_[1]}) {
    if (fd >= 0) close(fd);
  }
}

void MetricsEndpoint::Stop() {
  if (!thread_.joinable()) return;
  const char c = 'x';
  (void)!write(wake_fds_[1], &c, 1);
  thread_.join();
}

void MetricsEndpoint::Loop() {
  std::list<Connection> conns;  // oldest first
  auto drop = [&](std::list<Connection>::iterator it, bool cut) {
    if (cut) cut_off_.fetch_add(1);
    close(it->fd);
    return conns.erase(it);
  };
  std::vector<pollfd> fds;
  char buf[4096];
  while (true) {
    fds.clear();
    fds.push_back({wake_fds_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    absl::Time next = absl::Now() + absl::Seconds(1);
    for (const Connection& c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.writing ? POLLOUT : POLLIN), 0});
      next = std::min(next, c.deadline);
    }
    const int timeout_ms = static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(next - absl::Now()) + 1));
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) {
      for (auto it = conns.begin(); it != conns.end();) it = drop(it, false);
      return;
    }
    // Existing connections (the fds vector lists them in `conns` order).
    size_t k = 2;
    const absl::Time now = absl::Now();
    for (auto it = conns.begin(); it != conns.end(); ++k) {
      const short ev = k < fds.size() && fds[k].fd == it->fd ? fds[k].revents : 0;
      if (now > it->deadline) {
        it = drop(it, true);
        continue;
      }
      if (ev & (POLLERR | POLLHUP | POLLNVAL) && !(ev & POLLIN)) {
        it = drop(it, false);
        continue;
      }
      if (!it->writing && (ev & POLLIN)) {
        const ssize_t n = recv(it->fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          it = drop(it, false);
          continue;
        }
        if (n > 0) it->in.append(buf, static_cast<size_t>(n));
        const size_t end = it->in.find("\r\n\r\n");
        if (end != std::string::npos && end + 4 <= options_.max_request_bytes) {
          it->out = Answer(it->in.substr(0, end), *options_.registry);
          it->writing = true;
        } else if (it->in.size() > options_.max_request_bytes) {
          it->out = Response(431, "Request Header Fields Too Large", "text/plain", "request too large\n");
          it->writing = true;
        }
      } else if (it->writing && (ev & POLLOUT)) {
        const ssize_t n = send(it->fd, it->out.data() + it->sent, it->out.size() - it->sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
          it = drop(it, false);
          continue;
        }
        if (n > 0) it->sent += static_cast<size_t>(n);
        if (it->sent == it->out.size()) {
          shutdown(it->fd, SHUT_WR);
          it = drop(it, false);
          continue;
        }
      }
      ++it;
    }
    if (fds[1].revents & POLLIN) {
      while (true) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (static_cast<int>(conns.size()) >= options_.max_connections) drop(conns.begin(), true);  // evict oldest
        conns.push_back({fd, absl::Now() + options_.deadline, {}, {}, 0, false});
      }
    }
  }
}

}  // namespace mivla::server
