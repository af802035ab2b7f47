#include "server/service/policy_service.h"

#include <cmath>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/inference/chunk_builder.h"
#include "server/inference/observation_input.h"
#include "server/inference/string_checks.h"
#include "server/service/request_parse.h"
#include "server/service/rollout_info.h"

namespace mivla::server {

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  constexpr size_t kMaxMessage = 2048;
  std::string m(s.message());
  if (m.size() > kMaxMessage) m = ClipForEcho(m, kMaxMessage);
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), m);
}

absl::Time CallDeadline(const grpc::CallbackServerContext& ctx) {
  auto d = ctx.deadline();
  if (d >= std::chrono::system_clock::time_point::max() - std::chrono::hours(24 * 365)) return absl::InfiniteFuture();
  return absl::FromChrono(d);
}

absl::Status PolicyService::Admit(const grpc::CallbackServerContext& ctx, CallState* st) const {
  if (!accepting_.load()) return absl::UnavailableError("server is draining for shutdown; retry on another replica");
  if (p_.auth != nullptr) {
    absl::StatusOr<std::string> client = p_.auth->Identify(ctx);
    if (!client.ok()) return client.status();
    st->client = *std::move(client);
  }
  if (st->client.empty() && p_.clients_by_address) st->client = ClientAddress(ctx.peer());
  return absl::OkStatus();
}

absl::Status PolicyService::OpenSession(const std::string& id, bool take_slot, CallState* st) const {
  st->session_id = id;
  const size_t max_id = p_.engine->options().limits.max_session_id_bytes;
  if (id.size() > max_id) {
    return absl::InvalidArgumentError(absl::StrCat("session_id: ", id.size(), " bytes; session ids are at most ",
                                                   max_id, " (--max-session-id-bytes)"));
  }
  absl::StatusOr<std::shared_ptr<Session>> s = p_.sessions->Get(id);
  if (!s.ok()) return s.status();
  st->session = *std::move(s);
  if (take_slot && p_.limiter != nullptr) {
    absl::StatusOr<InFlightLimiter::Ticket> t = p_.limiter->Acquire(id, st->client);
    if (!t.ok()) return t.status();
    st->ticket = *std::move(t);
  }
  return absl::OkStatus();
}

void PolicyService::Close(grpc::CallbackServerContext* ctx, const absl::Status& s, CallState* st) const {
  if (s.ok() && st->session) st->session->Touch(absl::Now());
  st->ticket.Release();
  if (p_.metrics) p_.metrics->RecordRequest(st->rpc, static_cast<int>(s.code()), absl::ToDoubleSeconds(absl::Now() - st->start));
  if (s.ok()) return;
  if (s.code() == absl::StatusCode::kResourceExhausted && p_.limiter != nullptr && ctx != nullptr) {
    ctx->AddTrailingMetadata("grpc-retry-pushback-ms", absl::StrCat(p_.limiter->retry_after_ms()));
  }
  if (p_.refusals != nullptr) {
    Refusal r;
    r.rpc = st->rpc;
    r.status = s;
    r.session = st->session_id;
    r.client = st->client;
    r.peer = ctx != nullptr ? ctx->peer() : st->peer;
    if (st->session) r.robot_id = st->session->spec().robot_id;
    p_.refusals->Record(r);
  }
}

// A unary call's request and response, alive until the call finishes.
template <typename Req, typename Resp>
struct PolicyService::UnaryCall {
  CallState state;
  Req request;
  Resp response;
};

template <typename Req, typename Resp, typename Handler>
grpc::ServerUnaryReactor* PolicyService::Unary(grpc::CallbackServerContext* ctx, const char* rpc,
                                               const grpc::ByteBuffer* raw, size_t max_request_bytes,
                                               grpc::ByteBuffer* raw_response, Handler handler) {
  auto* call = new UnaryCall<Req, Resp>();
  call->state.rpc = rpc;
  call->state.start = absl::Now();
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  // `finish` runs exactly once, on this thread or an engine worker.
  auto finish = [this, ctx, call, reactor, raw_response](absl::Status s) {
    if (s.ok()) s = SerializeResponse(call->response, raw_response);
    Close(ctx, s, &call->state);
    delete call;
    reactor->Finish(ToGrpcStatus(s));
  };
  absl::Status s = Admit(*ctx, &call->state);
  // Refused by its size before it is copied and parsed.
  if (s.ok() && raw->Length() > max_request_bytes) {
    s = absl::InvalidArgumentError(absl::StrCat("request: ", raw->Length(), " bytes; ", rpc,
                                                " requests may have at most ", max_request_bytes,
                                                " [--max-control-request-bytes]"));
  }
  if (s.ok()) s = ParseRequest(*raw, &call->request);
  if (!s.ok()) {
    finish(s);
    return reactor;
  }
  handler(call->request, &call->response, &call->state, std::move(finish));
  return reactor;
}

grpc::ServerUnaryReactor* PolicyService::StartSession(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                                      grpc::ByteBuffer* resp) {
  return Unary<v1::StartSessionRequest, v1::StartSessionResponse>(
      ctx, "StartSession", req, p_.max_control_request_bytes, resp,
      [this](const auto& rq, auto* rs, CallState* st, auto finish) { finish(DoStartSession(rq, rs, st)); });
}

absl::Status PolicyService::DoStartSession(const v1::StartSessionRequest& req, v1::StartSessionResponse* resp,
                                           CallState* st) {
  // The session's version: the incumbent, or in canary mode a draw for the canary (sticky, rollout).
  const ModelManager::SessionVersion assigned = p_.models->ForNewSession();
  std::shared_ptr<const PolicyRuntime> m = assigned.runtime;
  if (!m) return absl::UnavailableError("no model version is loaded yet");
  const RuntimeInfo& info = m->info();
  auto e = EmbodimentFromProto(req.embodiment(), "embodiment");
  if (!e.ok()) return e.status();
  const double hz = req.control_rate_hz();
  if (hz != 0 && !(hz >= p_.min_control_rate_hz && hz <= p_.max_control_rate_hz)) {
    return absl::InvalidArgumentError(absl::StrCat("control_rate_hz: ", hz, " is not a rate in [", p_.min_control_rate_hz,
                                                   ", ", p_.max_control_rate_hz,
                                                   "] Hz (0 = the model's default; --min/--max-control-rate-hz)"));
  }
  SessionSpec spec;
  spec.embodiment = *e;
  for (const auto& c : req.cameras()) {
    spec.cameras.push_back({c.name(), static_cast<int>(std::min<uint32_t>(c.width(), 1u << 30)),
                            static_cast<int>(std::min<uint32_t>(c.height(), 1u << 30))});
  }
  spec.instruction = req.instruction();
  spec.control_period_s = 1.0 / (hz > 0 ? hz : info.control_rate_hz);
  spec.robot_id = req.robot_id();
  spec.task = req.task();
  spec.client = st->client;
  InputLimits limits = p_.engine->options().limits;
  limits.max_views = std::min(limits.max_views, info.max_views);
  if (absl::Status v = ValidateSessionSpec(spec, limits); !v.ok()) return v;
  auto session = p_.sessions->Start(std::move(spec));
  if (!session.ok()) return session.status();
  st->session = *session;
  st->session_id = (*session)->id();
  if (assigned.sticky) (*session)->set_runtime(m);
  resp->set_session_id((*session)->id());
  resp->set_model_version(info.version);
  // Steps per chunk at this session's rate (the model's H steps resampled, chunk_builder.h).
  resp->set_action_horizon(ChunkSteps(info.action_horizon, 1.0 / info.control_rate_hz,
                                      (*session)->spec().control_period_s));
  resp->set_control_period_s((*session)->spec().control_period_s);
  resp->set_idle_timeout_us(absl::ToInt64Microseconds(p_.sessions->idle_timeout()));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* PolicyService::EndSession(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                                    grpc::ByteBuffer* resp) {
  return Unary<v1::EndSessionRequest, v1::EndSessionResponse>(
      ctx, "EndSession", req, p_.max_control_request_bytes, resp,
      [this](const auto& rq, auto*, CallState* st, auto finish) {
        absl::Status s = OpenSession(rq.session_id(), /*take_slot=*/false, st);
        if (s.ok()) s = p_.sessions->End(rq.session_id());
        st->session.reset();  // ended: nothing to touch
        finish(s);
      });
}

grpc::ServerUnaryReactor* PolicyService::Observe(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                                 grpc::ByteBuffer* resp) {
  return Unary<v1::ObserveRequest, v1::ObserveResponse>(
      ctx, "Observe", req, /*max_request_bytes=*/SIZE_MAX, resp,
      [this, ctx](const auto& rq, auto* rs, CallState* st, auto finish) {
        if (absl::Status s = OpenSession(rq.session_id(), /*take_slot=*/true, st); !s.ok()) return finish(s);
        p_.engine->Observe(st->session, &rq, rs, CallDeadline(*ctx), [this, rs, finish](absl::Status s) {
          if (s.ok() && p_.metrics) p_.metrics->RecordTiming(rs->timing());
          finish(s);
        });
      });
}

grpc::ServerUnaryReactor* PolicyService::Act(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                             grpc::ByteBuffer* resp) {
  return Unary<v1::ActRequest, v1::ActResponse>(
      ctx, "Act", req, p_.max_control_request_bytes, resp,
      [this, ctx](const auto& rq, auto* rs, CallState* st, auto finish) {
        if (absl::Status s = OpenSession(rq.session_id(), /*take_slot=*/true, st); !s.ok()) return finish(s);
        p_.engine->Act(st->session, &rq, rs, CallDeadline(*ctx), [this, rs, finish](absl::Status s) {
          if (s.ok() && p_.metrics) p_.metrics->RecordTiming(rs->timing());
          finish(s);
        });
      });
}

grpc::ServerUnaryReactor* PolicyService::GetPolicyInfo(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                                       grpc::ByteBuffer* resp) {
  return Unary<v1::GetPolicyInfoRequest, v1::GetPolicyInfoResponse>(
      ctx, "GetPolicyInfo", req, p_.max_control_request_bytes, resp,
      [this](const auto&, auto* rs, CallState*, auto finish) { finish(DoGetPolicyInfo(rs)); });
}

absl::Status PolicyService::DoGetPolicyInfo(v1::GetPolicyInfoResponse* resp) {
  std::shared_ptr<const PolicyRuntime> m = p_.models->current();
  if (!m) return absl::UnavailableError("no model version is loaded yet");
  const RuntimeInfo& c = m->info();
  resp->set_model_version(c.version);
  resp->set_config_name(c.config_name);
  resp->set_config_json(c.config_json);
  for (auto e : c.embodiments) resp->add_embodiments(EmbodimentToProto(e));
  resp->set_action_horizon(c.action_horizon);
  resp->set_action_dim(action::kActionDim);
  resp->set_sampling_steps(c.sampling_steps);
  resp->set_default_control_rate_hz(c.control_rate_hz);
  resp->set_max_views(std::min(c.max_views, p_.engine->options().limits.max_views));
  resp->set_image_width(c.image_size);
  resp->set_image_height(c.image_size);
  resp->set_max_batch_size(static_cast<uint32_t>(p_.engine->options().decode.max_batch_size));
  resp->set_realtime_chunking(p_.engine->options().realtime_chunking);
  FillRolloutInfo(p_.models->rollout_status(), resp->mutable_rollout());
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* PolicyService::ReportEpisode(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                                       grpc::ByteBuffer* resp) {
  return Unary<v1::ReportEpisodeRequest, v1::ReportEpisodeResponse>(
      ctx, "ReportEpisode", req, p_.max_control_request_bytes, resp,
      [this](const auto& rq, auto*, CallState* st, auto finish) { finish(DoReportEpisode(rq, st)); });
}

absl::Status PolicyService::DoReportEpisode(const v1::ReportEpisodeRequest& req, CallState* st) {
  if (absl::Status s = OpenSession(req.session_id(), /*take_slot=*/true, st); !s.ok()) return s;
  const InputLimits& limits = p_.engine->options().limits;
  if (!std::isfinite(req.completeness()) || req.completeness() < 0 || req.completeness() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("completeness: ", req.completeness(), " is not in [0, 1]"));
  }
  if (!(req.duration_s() >= 0 && req.duration_s() <= 30 * 86400)) {
    return absl::InvalidArgumentError(absl::StrCat("duration_s: ", req.duration_s(), " is not a duration in [0, 30 days]"));
  }
  if (absl::Status s = CheckString(req.note(), "note", limits.max_note_bytes, "--max-note-bytes"); !s.ok()) return s;
  if (absl::Status s = CheckString(req.task(), "task", limits.max_task_bytes, "--max-task-bytes"); !s.ok()) return s;
  const std::string task = !req.task().empty() ? req.task() : st->session->spec().task;
  if (task.empty()) return absl::InvalidArgumentError("task: empty here and in the session");
  if (p_.metrics) {
    const std::string embodiment(action::EmbodimentName(st->session->spec().embodiment));
    const std::string label = p_.task_labels ? p_.task_labels->Label(embodiment, task) : task;
    p_.metrics->RecordEpisode(embodiment, label, req.success(), req.completeness());
  }
  // The outcome counts for the session's version (success-gated rollout); a session on a retired
  // version moves to the incumbent now, at its episode's end.
  st->session->set_runtime(p_.models->EpisodeEnded(st->session->runtime(), req.success()));
  return absl::OkStatus();
}

}  // namespace mivla::server
