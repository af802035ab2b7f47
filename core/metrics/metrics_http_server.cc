#include "core/metrics/metrics_http_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "httplib.h"

namespace mivla::metrics {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Create(Options options) {
  if (options.registry == nullptr) return absl::InvalidArgumentError("registry is required");
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("invalid port ", options.port));
  }
  return std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(std::move(options)));
}

MetricsHttpServer::MetricsHttpServer(Options options) : options_(std::move(options)) {}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

absl::Status MetricsHttpServer::Start() {
  if (server_ != nullptr) return absl::FailedPreconditionError("metrics server already started");
  auto server = std::make_unique<httplib::Server>();
  // httplib's default sets SO_REUSEPORT, which would let a second server share a busy port.
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const Registry* registry = options_.registry;
  server->Get("/metrics", [registry](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry->Expose(), kContentType);
  });
  server->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain; charset=utf-8");
  });
  int port = options_.port;
  if (port == 0) {
    port = server->bind_to_any_port(options_.bind_address);
  } else if (!server->bind_to_port(options_.bind_address, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot bind metrics server to ",
                                               options_.bind_address, ":", options_.port));
  }
  bound_port_ = port;
  server_ = std::move(server);
  httplib::Server* raw = server_.get();
  listen_returned_ = false;
  thread_ = std::thread([this, raw] {
    raw->listen_after_bind();
    listen_returned_ = true;
  });
  // httplib's stop() is a no-op until the accept loop runs: wait for it so Stop() cannot be lost.
  while (!raw->is_running() && !listen_returned_) absl::SleepFor(absl::Milliseconds(1));
  return absl::OkStatus();
}

void MetricsHttpServer::Stop() {
  if (server_ == nullptr) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
  bound_port_ = 0;
}

}  // namespace mivla::metrics
