// File: policy_service.h
// The gRPC callback implementation of mivla.v1.PolicyService. A thin adapter: each RPC authenticates,
// validates the request's shape, makes one domain call (SessionManager / PolicyEngine / ModelManager),
// maps the absl::Status to a gRPC status and records metrics. Inference never runs on a gRPC thread:
// Observe/Act/StreamAct hand their work to the engine's queues and reply from its callbacks.
//
// Thread-safety: gRPC calls the methods concurrently; the borrowed parts are thread-safe.
#ifndef MIVLA_SERVER_SERVICE_POLICY_SERVICE_H_
#define MIVLA_SERVER_SERVICE_POLICY_SERVICE_H_

#include <atomic>

#include "mivla/v1/policy.grpc.pb.h"
#include "server/inference/policy_engine.h"
#include "server/service/auth.h"
#include "server/service/server_metrics.h"
#include "server/session/session_manager.h"

namespace mivla::server {

class PolicyService final : public mivla::v1::PolicyService::CallbackService {
 public:
  struct Parts {
    SessionManager* sessions = nullptr;
    PolicyEngine* engine = nullptr;
    const ModelManager* models = nullptr;
    ServerMetrics* metrics = nullptr;             // optional
    const TokenAuthenticator* auth = nullptr;     // optional
  };
  explicit PolicyService(Parts parts) : p_(parts) {}

  /// From now on every new call is answered UNAVAILABLE (graceful shutdown).
  void StopAccepting() { accepting_.store(false); }

  grpc::ServerUnaryReactor* StartSession(grpc::CallbackServerContext* ctx, const mivla::v1::StartSessionRequest* req,
                                         mivla::v1::StartSessionResponse* resp) override;
  grpc::ServerUnaryReactor* EndSession(grpc::CallbackServerContext* ctx, const mivla::v1::EndSessionRequest* req,
                                       mivla::v1::EndSessionResponse* resp) override;
  grpc::ServerUnaryReactor* Observe(grpc::CallbackServerContext* ctx, const mivla::v1::ObserveRequest* req,
                                    mivla::v1::ObserveResponse* resp) override;
  grpc::ServerUnaryReactor* Act(grpc::CallbackServerContext* ctx, const mivla::v1::ActRequest* req,
                                mivla::v1::ActResponse* resp) override;
  grpc::ServerBidiReactor<mivla::v1::StreamActRequest, mivla::v1::StreamActResponse>* StreamAct(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* GetPolicyInfo(grpc::CallbackServerContext* ctx, const mivla::v1::GetPolicyInfoRequest* req,
                                          mivla::v1::GetPolicyInfoResponse* resp) override;
  grpc::ServerUnaryReactor* ReportEpisode(grpc::CallbackServerContext* ctx, const mivla::v1::ReportEpisodeRequest* req,
                                          mivla::v1::ReportEpisodeResponse* resp) override;

  // Used by the stream reactor (stream_reactor.cc).
  const Parts& parts() const { return p_; }
  /// Auth + accepting check shared by every RPC.
  absl::Status Admit(const grpc::CallbackServerContext& ctx) const;
  void Record(const char* rpc, const absl::Status& s, absl::Time start) const;

 private:
  grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* ctx, const char* rpc, const absl::Status& s,
                                  absl::Time start);
  Parts p_;
  std::atomic<bool> accepting_{true};
};

/// absl::Status -> grpc::Status (the codes share their numbers).
grpc::Status ToGrpcStatus(const absl::Status& s);
/// The call's deadline as absl::Time (InfiniteFuture when the client set none).
absl::Time CallDeadline(const grpc::CallbackServerContext& ctx);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_POLICY_SERVICE_H_
