// File: policy_server.h
// PolicyServer: the assembled mivla-server — model manager (hot reload), sessions, policy engine (two
// batching stages), the gRPC server with mivla.v1.PolicyService, grpc.health.v1.Health and server
// reflection, TLS / token auth, and the Prometheus /metrics endpoint. Used by the binary, the
// integration tests and the benchmark (in-process).
//
//   ASSIGN_OR_RETURN(auto server, PolicyServer::Create(options));
//   RETURN_IF_ERROR(server->Start());   // binds; health SERVING once a model is loaded and warmed
//   ... server->port(), server->metrics_port() ...
//   server->Shutdown(options.drain_timeout);  // NOT_SERVING, refuse new calls, drain, stop
//
// Health: "" and "mivla.v1.PolicyService" are NOT_SERVING until a model version is loaded and warmed
// (it may arrive later through the model directory) and again from the start of Shutdown.
// Thread-safety: Start and Shutdown from one controlling thread; the rest is internally synchronised.
#ifndef MIVLA_SERVER_SERVICE_POLICY_SERVER_H_
#define MIVLA_SERVER_SERVICE_POLICY_SERVER_H_

#include <grpcpp/server.h>

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/metrics/registry.h"
#include "server/service/heap_trimmer.h"
#include "server/service/metrics_endpoint.h"
#include "server/service/policy_service.h"
#include "server/service/server_options.h"

namespace mivla::server {

class PolicyServer {
 public:
  static absl::StatusOr<std::unique_ptr<PolicyServer>> Create(ServerOptions options);
  ~PolicyServer();

  /// Loads the first model (a directory without a loadable checkpoint is not an error: the server
  /// starts NOT_SERVING and keeps polling), then binds the gRPC and metrics ports.
  absl::Status Start();
  /// Idempotent. New calls are refused at once; queued work is computed for up to `drain`, and what is
  /// still queued then is answered UNAVAILABLE (a batch already running finishes). Returns when every
  /// call has been answered, at most about `drain` + 1 s after it was called unless a runtime call hangs.
  void Shutdown(absl::Duration drain);

  int port() const { return port_; }
  int metrics_port() const { return metrics_http_ ? metrics_http_->port() : -1; }
  bool serving() const;
  /// Waits until serving() (after Start: the first model loaded and warmed), looking every 20 ms;
  /// DEADLINE_EXCEEDED after `timeout`.
  absl::Status AwaitServing(absl::Duration timeout) const;
  ModelManager& models() { return *models_; }
  SessionManager& sessions() { return *sessions_; }
  PolicyEngine& engine() { return *engine_; }
  const metrics::Registry& registry() const { return registry_; }
  InFlightLimiter& limiter() { return *limiter_; }
  RefusalLog& refusals() { return *refusals_; }
  const ServerOptions& options() const { return options_; }

 private:
  class ReloadListener;
  explicit PolicyServer(ServerOptions options);
  // Health: SERVING once gRPC is started and a model version is loaded, until Shutdown begins.
  void UpdateServing() ABSL_LOCKS_EXCLUDED(serving_mu_);

  const ServerOptions options_;
  metrics::Registry registry_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<ReloadListener> listener_;
  std::unique_ptr<ModelManager> models_;
  std::unique_ptr<SessionManager> sessions_;
  std::unique_ptr<PolicyEngine> engine_;
  std::unique_ptr<TokenAuthenticator> auth_;
  std::unique_ptr<InFlightLimiter> limiter_;
  std::unique_ptr<TaskLabels> task_labels_;
  std::unique_ptr<RefusalLog> refusals_;
  std::unique_ptr<StreamIdleWatch> stream_watch_;  // null unless --stream-idle-timeout-s > 0
  std::unique_ptr<PolicyService> service_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<MetricsEndpoint> metrics_http_;
  std::unique_ptr<HeapTrimmer> heap_trimmer_;  // from Start until Shutdown; null under glibc or --heap-keep-mib -1
  int port_ = 0;
  absl::Mutex serving_mu_;  // orders UpdateServing's decisions
  std::atomic<bool> serving_{false};
  std::atomic<bool> shut_down_{false};
  std::atomic<bool> grpc_started_{false};
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_POLICY_SERVER_H_
