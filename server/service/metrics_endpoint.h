// File: metrics_endpoint.h
// MetricsEndpoint: the hardened HTTP endpoint that serves a metrics Registry to Prometheus for
// mivla-server (GET /metrics in text format 0.0.4, GET /healthz), so that slow or hostile clients
// cannot blind monitoring:
// - one thread with non-blocking sockets and poll(): a slow client costs a file descriptor, not one of
//   a few worker threads (eight clients dribbling headers used to block every scrape);
// - a deadline per connection, from accept to the last response byte (`deadline`, default 5 s): a
//   client that dribbles its request or reads its response slowly is cut off when it passes;
// - at most `max_connections` open at once; a new connection beyond that evicts the oldest one, so a
//   scraper always gets in even while the slots are full of slow clients;
// - a request head over `max_request_bytes` is answered 431 and closed; one request per connection;
// - the bind address is an option (--metrics-address; IPv4 or IPv6 literal, e.g. 127.0.0.1 or ::1).
//
//   MetricsEndpoint::Options o; o.bind_address = "127.0.0.1"; o.port = 0; o.registry = &registry;
//   ASSIGN_OR_RETURN(std::unique_ptr<MetricsEndpoint> ep, MetricsEndpoint::Start(o));
//   ... ep->port() ...; ep->Stop();  // also done by the destructor
//
// Thread-safety: port() from any thread; Stop once from the owner. Expose() runs on the endpoint's thread.
#ifndef MIVLA_SERVER_SERVICE_METRICS_ENDPOINT_H_
#define MIVLA_SERVER_SERVICE_METRICS_ENDPOINT_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/metrics/registry.h"

namespace mivla::server {

class MetricsEndpoint {
 public:
  struct Options {
    std::string bind_address = "0.0.0.0";
    int port = 0;                               // 0: the OS picks a free port
    const metrics::Registry* registry = nullptr;  // required; outlives the endpoint
    absl::Duration deadline = absl::Seconds(5);
    int max_connections = 32;
    size_t max_request_bytes = 8192;
  };
  /// Binds and starts serving. INVALID_ARGUMENT for bad options (naming the address), UNAVAILABLE
  /// when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(Options options);
  ~MetricsEndpoint();
  void Stop();
  int port() const { return port_; }
  /// Connections cut off at their deadline or evicted so far (tests, logs).
  int64_t cut_off() const { return cut_off_.load(); }

 private:
  struct Connection;
  explicit MetricsEndpoint(Options options) : options_(std::move(options)) {}
  void Loop();

  const Options options_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // self-pipe: Stop wakes poll()
  int port_ = 0;
  std::atomic<int64_t> cut_off_{0};
  std::thread thread_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_METRICS_ENDPOINT_H_
