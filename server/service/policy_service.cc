#include "server/service/policy_service.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/model/model_config.h"
#include "server/inference/observation_input.h"

namespace mivla::server {

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

absl::Time CallDeadline(const grpc::CallbackServerContext& ctx) {
  auto d = ctx.deadline();
  if (d >= std::chrono::system_clock::time_point::max() - std::chrono::hours(24 * 365)) return absl::InfiniteFuture();
  return absl::FromChrono(d);
}

absl::Status PolicyService::Admit(const grpc::CallbackServerContext& ctx) const {
  if (!accepting_.load()) return absl::UnavailableError("server is draining for shutdown; retry on another replica");
  if (p_.auth != nullptr) return p_.auth->Check(ctx);
  return absl::OkStatus();
}

void PolicyService::Record(const char* rpc, const absl::Status& s, absl::Time start) const {
  if (p_.metrics) p_.metrics->RecordRequest(rpc, static_cast<int>(s.code()), absl::ToDoubleSeconds(absl::Now() - start));
}

grpc::ServerUnaryReactor* PolicyService::Reply(grpc::CallbackServerContext* ctx, const char* rpc,
                                               const absl::Status& s, absl::Time start) {
  Record(rpc, s, start);
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

grpc::ServerUnaryReactor* PolicyService::StartSession(grpc::CallbackServerContext* ctx,
                                                      const mivla::v1::StartSessionRequest* req,
                                                      mivla::v1::StartSessionResponse* resp) {
  const absl::Time start = absl::Now();
  absl::Status s = [&]() -> absl::Status {
    if (absl::Status a = Admit(*ctx); !a.ok()) return a;
    std::shared_ptr<const LoadedModel> m = p_.models->current();
    if (!m) return absl::UnavailableError("no model version is loaded yet");
    auto e = EmbodimentFromProto(req->embodiment(), "embodiment");
    if (!e.ok()) return e.status();
    if (!std::isfinite(req->control_rate_hz()) || req->control_rate_hz() < 0 || req->control_rate_hz() > 10000) {
      return absl::InvalidArgumentError(absl::StrCat("control_rate_hz: ", req->control_rate_hz(),
                                                     " is not a rate in [0, 10000] Hz (0 = the model's default)"));
    }
    SessionSpec spec;
    spec.embodiment = *e;
    for (const auto& c : req->cameras()) spec.cameras.push_back({c.name(), static_cast<int>(c.width()), static_cast<int>(c.height())});
    spec.instruction = req->instruction();
    const double rate = req->control_rate_hz() > 0 ? req->control_rate_hz() : m->config().control_rate_hz;
    spec.control_period_s = 1.0 / rate;
    spec.robot_id = req->robot_id();
    spec.task = req->task();
    InputLimits limits = p_.engine->options().limits;
    limits.max_views = std::min(limits.max_views, m->config().max_views);
    if (absl::Status v = ValidateSessionSpec(spec, limits); !v.ok()) return v;
    auto session = p_.sessions->Start(std::move(spec));
    if (!session.ok()) return session.status();
    resp->set_session_id((*session)->id());
    resp->set_model_version(m->version());
    resp->set_action_horizon(m->config().decoder.action_horizon);
    resp->set_control_period_s((*session)->spec().control_period_s);
    resp->set_idle_timeout_us(absl::ToInt64Microseconds(p_.sessions->idle_timeout()));
    return absl::OkStatus();
  }();
  return Reply(ctx, "StartSession", s, start);
}

grpc::ServerUnaryReactor* PolicyService::EndSession(grpc::CallbackServerContext* ctx,
                                                    const mivla::v1::EndSessionRequest* req,
                                                    mivla::v1::EndSessionResponse*) {
  const absl::Time start = absl::Now();
  absl::Status s = Admit(*ctx);
  if (s.ok()) s = p_.sessions->End(req->session_id());
  return Reply(ctx, "EndSession", s, start);
}

grpc::ServerUnaryReactor* PolicyService::Observe(grpc::CallbackServerContext* ctx, const mivla::v1::ObserveRequest* req,
                                                 mivla::v1::ObserveResponse* resp) {
  const absl::Time start = absl::Now();
  absl::Status s = Admit(*ctx);
  absl::StatusOr<std::shared_ptr<Session>> session = s.ok() ? p_.sessions->Get(req->session_id()) : s;
  if (!session.ok()) return Reply(ctx, "Observe", session.status(), start);
  auto* reactor = ctx->DefaultReactor();
  p_.engine->Observe(*std::move(session), req, resp, CallDeadline(*ctx), [this, reactor, resp, start](absl::Status st) {
    if (st.ok() && p_.metrics) p_.metrics->RecordTiming(resp->timing());
    Record("Observe", st, start);
    reactor->Finish(ToGrpcStatus(st));
  });
  return reactor;
}

grpc::ServerUnaryReactor* PolicyService::Act(grpc::CallbackServerContext* ctx, const mivla::v1::ActRequest* req,
                                             mivla::v1::ActResponse* resp) {
  const absl::Time start = absl::Now();
  absl::Status s = Admit(*ctx);
  absl::StatusOr<std::shared_ptr<Session>> session = s.ok() ? p_.sessions->Get(req->session_id()) : s;
  if (!session.ok()) return Reply(ctx, "Act", session.status(), start);
  auto* reactor = ctx->DefaultReactor();
  p_.engine->Act(*std::move(session), req, resp, CallDeadline(*ctx), [this, reactor, resp, start](absl::Status st) {
    if (st.ok() && p_.metrics) p_.metrics->RecordTiming(resp->timing());
    Record("Act", st, start);
    reactor->Finish(ToGrpcStatus(st));
  });
  return reactor;
}

grpc::ServerUnaryReactor* PolicyService::GetPolicyInfo(grpc::CallbackServerContext* ctx,
                                                       const mivla::v1::GetPolicyInfoRequest*,
                                                       mivla::v1::GetPolicyInfoResponse* resp) {
  const absl::Time start = absl::Now();
  absl::Status s = Admit(*ctx);
  std::shared_ptr<const LoadedModel> m = s.ok() ? p_.models->current() : nullptr;
  if (s.ok() && !m) s = absl::UnavailableError("no model version is loaded yet");
  if (s.ok()) {
    const model::ModelConfig& c = m->config();
    resp->set_model_version(m->version());
    resp->set_config_name(c.name);
    resp->set_config_json(model::ConfigToJson(c));
    for (auto e : action::kAllEmbodiments) resp->add_embodiments(EmbodimentToProto(e));
    resp->set_action_horizon(c.decoder.action_horizon);
    resp->set_action_dim(action::kActionDim);
    resp->set_sampling_steps(c.decoder.sampling_steps);
    resp->set_default_control_rate_hz(c.control_rate_hz);
    resp->set_max_views(std::min(c.max_views, p_.engine->options().limits.max_views));
    resp->set_image_width(m->image_size());
    resp->set_image_height(m->image_size());
    resp->set_max_batch_size(static_cast<uint32_t>(p_.engine->options().decode.max_batch_size));
  }
  return Reply(ctx, "GetPolicyInfo", s, start);
}

grpc::ServerUnaryReactor* PolicyService::ReportEpisode(grpc::CallbackServerContext* ctx,
                                                       const mivla::v1::ReportEpisodeRequest* req,
                                                       mivla::v1::ReportEpisodeResponse*) {
  const absl::Time start = absl::Now();
  absl::Status s = [&]() -> absl::Status {
    if (absl::Status a = Admit(*ctx); !a.ok()) return a;
    auto session = p_.sessions->Get(req->session_id());
    if (!session.ok()) return session.status();
    if (!std::isfinite(req->completeness()) || req->completeness() < 0 || req->completeness() > 1) {
      return absl::InvalidArgumentError(absl::StrCat("completeness: ", req->completeness(), " is not in [0, 1]"));
    }
    if (!std::isfinite(req->duration_s()) || req->duration_s() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("duration_s: ", req->duration_s(), " is not a duration"));
    }
    const std::string task = !req->task().empty() ? req->task() : (*session)->spec().task;
    if (task.empty()) return absl::InvalidArgumentError("task: empty here and in the session");
    if (task.size() > 128) return absl::InvalidArgumentError("task: longer than 128 bytes");
    if (p_.metrics) {
      p_.metrics->RecordEpisode(std::string(action::EmbodimentName((*session)->spec().embodiment)), task,
                                req->success(), req->completeness());
    }
    return absl::OkStatus();
  }();
  return Reply(ctx, "ReportEpisode", s, start);
}

}  // namespace mivla::server
