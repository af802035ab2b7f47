// File: policy_service.h
// The gRPC callback implementation of mivla.v1.PolicyService. A thin adapter: each RPC parses its
// request itself (so a malformed message or a string field that is not UTF-8 is answered
// INVALID_ARGUMENT with a message, not gRPC's empty UNIMPLEMENTED; request_parse.h), authenticates,
// checks the session id's length, looks the session up, takes an in-flight slot of the session and
// client (in_flight_limiter.h), makes one domain call (SessionManager / PolicyEngine / ModelManager),
// maps the absl::Status to a gRPC status (message length bounded), refreshes the session's idle clock
// only when the call succeeded, records metrics and writes a refusal log line (refusal_log.h) for
// every call that did not succeed. Inference never runs on a gRPC thread: Observe/Act/StreamAct hand
// their work to the engine's queues and reply from its callbacks.
//
// Thread-safety: gRPC calls the methods concurrently; the borrowed parts are thread-safe.
#ifndef MIVLA_SERVER_SERVICE_POLICY_SERVICE_H_
#define MIVLA_SERVER_SERVICE_POLICY_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "mivla/v1/policy.grpc.pb.h"
#include "server/inference/policy_engine.h"
#include "server/service/auth.h"
#include "server/service/in_flight_limiter.h"
#include "server/service/refusal_log.h"
#include "server/service/server_metrics.h"
#include "server/service/stream_idle_watch.h"
#include "server/service/task_labels.h"
#include "server/session/session_manager.h"

namespace mivla::server {

namespace v1 = ::mivla::v1;
using RawPolicyServiceBase = v1::PolicyService::WithRawCallbackMethod_StartSession<
    v1::PolicyService::WithRawCallbackMethod_EndSession<v1::PolicyService::WithRawCallbackMethod_Observe<
        v1::PolicyService::WithRawCallbackMethod_Act<v1::PolicyService::WithRawCallbackMethod_StreamAct<
            v1::PolicyService::WithRawCallbackMethod_GetPolicyInfo<
                v1::PolicyService::WithRawCallbackMethod_ReportEpisode<v1::PolicyService::Service>>>>>>>;

class PolicyService final : public RawPolicyServiceBase {
 public:
  struct Parts {
    SessionManager* sessions = nullptr;
    PolicyEngine* engine = nullptr;
    ModelManager* models = nullptr;               // versions per session and episode outcomes (rollout)
    ServerMetrics* metrics = nullptr;             // optional
    const TokenAuthenticator* auth = nullptr;     // optional
    InFlightLimiter* limiter = nullptr;           // optional
    TaskLabels* task_labels = nullptr;            // optional (no bound on episode task labels)
    RefusalLog* refusals = nullptr;               // optional
    StreamIdleWatch* stream_watch = nullptr;      // optional (streams never idle out)
    bool clients_by_address = false;              // no token: the peer's IP address names the client
    double min_control_rate_hz = 0.5;
    double max_control_rate_hz = 2000.0;
    size_t max_control_request_bytes = SIZE_MAX;  // unary RPCs but Observe: refused by size before parsing
  };
  explicit PolicyService(Parts parts) : p_(parts) {}

  /// From now on every new call is answered UNAVAILABLE (graceful shutdown).
  void StopAccepting() { accepting_.store(false); }

  grpc::ServerUnaryReactor* StartSession(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                         grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* EndSession(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                       grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* Observe(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                    grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* Act(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                grpc::ByteBuffer* resp) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* StreamAct(grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* GetPolicyInfo(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                          grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* ReportEpisode(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                          grpc::ByteBuffer* resp) override;

  /// What one call carries from admission to its end (the stream keeps one per request).
  struct CallState {
    const char* rpc = "";
    absl::Time start;
    std::string client;      // TokenAuthenticator::Identify
    std::string session_id;  // as sent (for the refusal log)
    std::string peer;        // the refusal log's peer when Close gets no context (a stream that ended)
    std::shared_ptr<Session> session;
    InFlightLimiter::Ticket ticket;
  };

  // Used by the stream reactor (stream_reactor.cc).
  const Parts& parts() const { return p_; }
  /// Accepting check + authentication; fills state->client.
  absl::Status Admit(const grpc::CallbackServerContext& ctx, CallState* state) const;
  /// session_id length, lookup, in-flight slot; fills state->session and state->ticket.
  absl::Status OpenSession(const std::string& session_id, bool take_slot, CallState* state) const;
  /// Ends a call's bookkeeping: touches the session on success, frees the slot, records metrics and
  /// logs a refusal. Adds the retry trailer for RESOURCE_EXHAUSTED. `ctx` null: the call has already
  /// been finished (its context may be gone): no trailer, and the log takes `state->peer`.
  void Close(grpc::CallbackServerContext* ctx, const absl::Status& s, CallState* state) const;

 private:
  template <typename Req, typename Resp>
  struct UnaryCall;
  /// Admits, size-checks (`max_request_bytes`: INVALID_ARGUMENT above it, before parsing) and parses a
  /// request, then runs `handler`. `max_request_bytes` is --max-control-request-bytes (the refusal names
  /// that flag) for the control RPCs, and SIZE_MAX for Observe, the one RPC with images (gRPC's message
  /// limit, --max-message-bytes, still applies).
  template <typename Req, typename Resp, typename Handler>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const char* rpc, const grpc::ByteBuffer* raw,
                                  size_t max_request_bytes, grpc::ByteBuffer* raw_response, Handler handler);

  absl::Status DoStartSession(const v1::StartSessionRequest& req, v1::StartSessionResponse* resp, CallState* st);
  absl::Status DoGetPolicyInfo(v1::GetPolicyInfoResponse* resp);
  absl::Status DoReportEpisode(const v1::ReportEpisodeRequest& req, CallState* st);

  Parts p_;
  std::atomic<bool> accepting_{true};
};

/// absl::Status -> grpc::Status (the codes share their numbers; the message is cut to 2 KB).
grpc::Status ToGrpcStatus(const absl::Status& s);
/// The call's deadline as absl::Time (InfiniteFuture when the client set none).
absl::Time CallDeadline(const grpc::CallbackServerContext& ctx);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_POLICY_SERVICE_H_
