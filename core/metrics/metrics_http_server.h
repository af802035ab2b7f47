// File: metrics_http_server.h
// MetricsHttpServer: a small HTTP server (cpp-httplib) exposing a Registry for Prometheus.
//   GET /metrics -> 200, Content-Type "text/plain; version=0.0.4; charset=utf-8", Registry::Expose()
//   GET /healthz -> 200 "ok"
//
//   MetricsHttpServer::Options options;
//   options.port = 9090;            // 0 picks a free port; see port()
//   options.registry = &registry;
//   ASSIGN_OR_RETURN(std::unique_ptr<MetricsHttpServer> server, MetricsHttpServer::Create(options));
//   RETURN_IF_ERROR(server->Start());
//   ...
//   server->Stop();                 // also done by the destructor
//
// Thread safety: Start and Stop must not race each other; port() may be called from any thread
// after Start. Requests are served on the server's own threads.
#ifndef MIVLA_CORE_METRICS_METRICS_HTTP_SERVER_H_
#define MIVLA_CORE_METRICS_METRICS_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/metrics/registry.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace mivla::metrics {

class MetricsHttpServer {
 public:
  struct Options {
    std::string bind_address = "0.0.0.0";  // "127.0.0.1" for loopback only
    int port = 0;                           // 0: the OS picks a free port
    const Registry* registry = nullptr;     // required; not owned; must outlive the server
  };

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  /// InvalidArgument without a registry or with a port outside [0, 65535]. Does not bind yet.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Create(Options options);

  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  /// Binds and starts serving on a background thread. Unavailable when the port cannot be bound;
  /// FailedPrecondition when already started.
  absl::Status Start();

  /// Stops serving and joins the thread. Idempotent.
  void Stop();

  /// The bound port (the chosen one when Options::port was 0); 0 before Start.
  int port() const { return bound_port_; }

 private:
  explicit MetricsHttpServer(Options options);

  const Options options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  int bound_port_ = 0;
};

}  // namespace mivla::metrics

#endif  // MIVLA_CORE_METRICS_METRICS_HTTP_SERVER_H_
