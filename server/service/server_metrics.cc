#include "server/service/server_metrics.h"

#include <grpcpp/support/status.h>

#include "absl/strings/str_cat.h"
#include "core/action/action_space.h"
#include "core/util/status_macros.h"
#include "core/metrics/process_metrics.h"

namespace mivla::server {
namespace {

std::string CodeName(int code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : absl::StrCat(code);
}

template <typename T>
T* Child(metrics::Family<T>* f, const std::vector<std::string>& labels) {
  auto c = f->WithLabels(labels);
  return c.ok() ? *c : nullptr;
}

}  // namespace

struct ServerMetrics::Families {
  metrics::Family<metrics::Counter>* requests;
  metrics::Family<metrics::Histogram>* request_latency;
  metrics::Family<metrics::Histogram>* stage_latency;
  metrics::Family<metrics::Histogram>* batch_size;
  metrics::Family<metrics::Gauge>* queue_depth;
  metrics::Family<metrics::Counter>* rejected;
  metrics::Family<metrics::Counter>* dropped;
  metrics::Family<metrics::Counter>* deadline_exceeded;
  metrics::Family<metrics::Gauge>* sessions;
  metrics::Family<metrics::Gauge>* model_info;
  metrics::Family<metrics::Counter>* reloads;
  metrics::Family<metrics::Counter>* episodes;
  metrics::Family<metrics::Counter>* successes;
  metrics::Family<metrics::Histogram>* completeness;
  metrics::Family<metrics::Counter>* non_finite;
  metrics::Family<metrics::Counter>* guided_acts;
  metrics::Family<metrics::Counter>* late_acts;
  metrics::Family<metrics::Counter>* heap_released;
};

ServerMetrics::ServerMetrics(metrics::Registry* registry) : registry_(registry) {}
ServerMetrics::~ServerMetrics() = default;

absl::StatusOr<std::unique_ptr<ServerMetrics>> ServerMetrics::Create(metrics::Registry* r) {
  std::unique_ptr<ServerMetrics> m(new ServerMetrics(r));
  auto f = std::make_unique<Families>();
  const std::vector<double> latency = metrics::Histogram::ExponentialBounds(0.0005, 2.0, 16);  // 0.5 ms .. 16 s
  ASSIGN_OR_RETURN(f->requests, r->AddCounter("mivla_requests_total", "Finished RPCs by method and status code.",
                                              {"rpc", "code"}));
  ASSIGN_OR_RETURN(f->request_latency, r->AddHistogram("mivla_request_latency_seconds",
                                                       "RPC latency from arrival to reply.", {"rpc"}, latency));
  ASSIGN_OR_RETURN(f->stage_latency,
                   r->AddHistogram("mivla_stage_latency_seconds",
                                   "Per-request time in each server stage (queue, encode, decode, total).",
                                   {"stage"}, latency));
  ASSIGN_OR_RETURN(f->batch_size, r->AddHistogram("mivla_batch_size", "Requests per batch, per stage.", {"stage"},
                                                  {1, 2, 4, 8, 16, 32, 64, 128}));
  ASSIGN_OR_RETURN(f->queue_depth, r->AddGauge("mivla_queue_depth", "Tasks waiting in a stage's queue.", {"stage"}));
  ASSIGN_OR_RETURN(f->rejected, r->AddCounter("mivla_queue_rejected_total",
                                              "Requests refused with RESOURCE_EXHAUSTED because a queue was full.",
                                              {"stage"}));
  ASSIGN_OR_RETURN(f->dropped, r->AddCounter("mivla_queue_dropped_total",
                                             "Queued requests dropped before compute (deadline or shutdown).",
                                             {"stage"}));
  ASSIGN_OR_RETURN(f->deadline_exceeded,
                   r->AddCounter("mivla_deadline_exceeded_total",
                                 "Queued requests answered DEADLINE_EXCEEDED because their deadline (the robot running "
                                 "out of actions, or the gRPC deadline) passed before compute.",
                                 {"stage"}));
  ASSIGN_OR_RETURN(f->sessions, r->AddGauge("mivla_active_sessions", "Live robot sessions.", {"embodiment"}));
  ASSIGN_OR_RETURN(f->model_info, r->AddGauge("mivla_model_info", "1 for the model version being served.",
                                              {"version"}));
  ASSIGN_OR_RETURN(f->reloads, r->AddCounter("mivla_model_reloads_total",
                                             "Model loads by result (ok, failed).", {"result"}));
  ASSIGN_OR_RETURN(f->episodes, r->AddCounter("mivla_episodes_total", "Reported episodes.", {"embodiment", "task"}));
  ASSIGN_OR_RETURN(f->successes, r->AddCounter("mivla_episode_successes_total", "Reported successful episodes.",
                                               {"embodiment", "task"}));
  ASSIGN_OR_RETURN(f->completeness,
                   r->AddHistogram("mivla_episode_completeness", "Reported fraction of sub-tasks done.",
                                   {"embodiment", "task"}, metrics::Histogram::LinearBounds(0.1, 0.1, 10)));
  ASSIGN_OR_RETURN(f->non_finite, r->AddCounter("mivla_non_finite_outputs_total",
                                                "Action chunks refused (INTERNAL) because they held NaN or Inf.",
                                                {"version"}));
  ASSIGN_OR_RETURN(f->guided_acts, r->AddCounter("mivla_realtime_chunking_acts_total",
                                                 "Acts answered with a chunk sampled by real-time chunking (guided "
                                                 "by the robot's committed steps).",
                                                 {}));
  Child(f->guided_acts, {});  // expose 0 before the first
  ASSIGN_OR_RETURN(f->late_acts,
                   r->AddCounter("mivla_late_acts_total",
                                 "Acts whose robot asked before its declared run-out (deadline_us, or the last "
                                 "chunk's end with --drop-on-chunk-end) and ran out before the Act was answered "
                                 "or dropped (DEADLINE_EXCEEDED).",
                                 {}));
  Child(f->late_acts, {});  // expose 0 before the first
  ASSIGN_OR_RETURN(f->heap_released,
                   r->AddCounter("mivla_heap_released_bytes_total",
                                 "Free heap pages given back to the kernel by the heap trimmer: what stayed free "
                                 "in tcmalloc's page heap through a 30 s window beyond --heap-keep-mib.",
                                 {}));
  Child(f->heap_released, {});  // expose 0 before the first
  RETURN_IF_ERROR(metrics::RegisterProcessMetrics(r));
  for (const char* stage : {"encode", "decode"}) {  // expose zero series before the first request
    Child(f->queue_depth, {stage})->Set(0);
    Child(f->rejected, {stage});
    Child(f->dropped, {stage});
    Child(f->deadline_exceeded, {stage});
  }
  for (const char* result : {"ok", "failed"}) Child(f->reloads, {result});
  for (auto e : action::kAllEmbodiments) Child(f->sessions, {std::string(action::EmbodimentName(e))});
  m->f_ = std::move(f);
  r->AddCollectHook([p = m.get()] { p->RefreshSessions(); });
  return m;
}

void ServerMetrics::SetSessionSource(const SessionManager* sessions) {
  absl::MutexLock lock(&mu_);
  sessions_ = sessions;
}

void ServerMetrics::RefreshSessions() {
  absl::MutexLock lock(&mu_);
  if (sessions_ == nullptr) return;
  auto counts = sessions_->CountByEmbodiment();
  for (auto e : action::kAllEmbodiments) {
    Child(f_->sessions, {std::string(action::EmbodimentName(e))})->Set(counts[static_cast<int>(e)]);
  }
}

void ServerMetrics::RecordRequest(const std::string& rpc, int code, double seconds) {
  if (auto* c = Child(f_->requests, {rpc, CodeName(code)})) c->Inc();
  if (auto* h = Child(f_->request_latency, {rpc})) h->Observe(seconds);
}

void ServerMetrics::RecordTiming(const mivla::v1::ServerTiming& t) {
  Child(f_->stage_latency, {"queue"})->Observe(t.queue_us() * 1e-6);
  if (t.encode_us() > 0) Child(f_->stage_latency, {"encode"})->Observe(t.encode_us() * 1e-6);
  if (t.decode_us() > 0) Child(f_->stage_latency, {"decode"})->Observe(t.decode_us() * 1e-6);
  Child(f_->stage_latency, {"total"})->Observe(t.total_us() * 1e-6);
}

void ServerMetrics::RecordEpisode(const std::string& embodiment, const std::string& task, bool success,
                                  double completeness) {
  Child(f_->episodes, {embodiment, task})->Inc();
  auto* s = Child(f_->successes, {embodiment, task});  // created at 0 so success rates are defined
  if (success) s->Inc();
  Child(f_->completeness, {embodiment, task})->Observe(completeness);
}

void ServerMetrics::OnQueueDepth(const std::string& queue, size_t depth) {
  if (auto* g = Child(f_->queue_depth, {queue})) g->Set(static_cast<double>(depth));
}
void ServerMetrics::OnBatch(const std::string& queue, size_t size, absl::Duration) {
  if (auto* h = Child(f_->batch_size, {queue})) h->Observe(static_cast<double>(size));
}
void ServerMetrics::OnTaskDropped(const std::string& queue, const absl::Status& reason) {
  if (auto* c = Child(f_->dropped, {queue})) c->Inc();
  if (reason.code() == absl::StatusCode::kDeadlineExceeded) {
    if (auto* c = Child(f_->deadline_exceeded, {queue})) c->Inc();
  }
}
void ServerMetrics::OnRejected(const std::string& queue) {
  if (auto* c = Child(f_->rejected, {queue})) c->Inc();
}

void ServerMetrics::OnModelLoaded(const std::string& version, const std::string&, absl::Duration) {
  Child(f_->reloads, {"ok"})->Inc();
  absl::MutexLock lock(&mu_);
  if (!serving_version_.empty()) Child(f_->model_info, {serving_version_})->Set(0);
  serving_version_ = version;
  Child(f_->model_info, {version})->Set(1);
}

void ServerMetrics::RecordNonFiniteOutput(const std::string& version) {
  if (auto* c = Child(f_->non_finite, {version})) c->Inc();
}

void ServerMetrics::RecordGuidedAct() {
  if (auto* c = Child(f_->guided_acts, {})) c->Inc();
}

void ServerMetrics::RecordLateAct() {
  if (auto* c = Child(f_->late_acts, {})) c->Inc();
}

void ServerMetrics::RecordHeapReleased(int64_t bytes) {
  if (auto* c = Child(f_->heap_released, {})) c->Inc(static_cast<double>(bytes));
}

void ServerMetrics::OnModelLoadFailed(const std::string&, const absl::Status&) { Child(f_->reloads, {"failed"})->Inc(); }

}  // namespace mivla::server
