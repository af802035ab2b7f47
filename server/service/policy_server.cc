#include "server/service/policy_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "core/util/log.h"
#include "core/util/malloc_tuning.h"
#include "core/util/status_macros.h"
#include "server/service/rollout_metrics.h"

namespace mivla::server {
namespace {
constexpr char kComponent[] = "server";
// Shutdown: how long past the drain gRPC waits for the engine's last answers before cancelling calls.
constexpr absl::Duration kAnswerGrace = absl::Seconds(1);
constexpr char kServiceName[] = "mivla.v1.PolicyService";

BatchQueueOptions QueueOptions(const StageOptions& s, BatchQueueObserver* observer) {
  BatchQueueOptions q;
  q.max_batch_size = s.max_batch_size;
  q.max_queue_delay = absl::Microseconds(s.max_queue_delay_us);
  q.max_queue_depth = s.max_queue_depth;
  q.num_workers = s.workers;
  q.observer = observer;
  return q;
}
}  // namespace

// Forwards reload events to the metrics and turns health on when the first version arrives.
class PolicyServer::ReloadListener : public ModelManager::Listener {
 public:
  explicit ReloadListener(PolicyServer* s) : s_(s) {}
  void OnModelLoaded(const std::string& version, const std::string& path, absl::Duration took) override {
    s_->metrics_->OnModelLoaded(version, path, took);
    s_->UpdateServing();
  }
  void OnModelLoadFailed(const std::string& path, const absl::Status& why) override {
    s_->metrics_->OnModelLoadFailed(path, why);
  }

 private:
  PolicyServer* s_;
};

PolicyServer::PolicyServer(ServerOptions options) : options_(std::move(options)) {}

PolicyServer::~PolicyServer() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<PolicyServer>> PolicyServer::Create(ServerOptions options) {
  RETURN_IF_ERROR(ValidateServerOptions(options));
  std::unique_ptr<PolicyServer> s(new PolicyServer(std::move(options)));
  const ServerOptions& o = s->options_;
  ASSIGN_OR_RETURN(s->metrics_, ServerMetrics::Create(&s->registry_));
  s->listener_ = std::make_unique<ReloadListener>(s.get());

  ModelManager::Options mo;
  mo.model_dir = o.model_dir;
  mo.poll_interval = o.poll_interval;
  mo.settle_time = o.settle_time;
  mo.random_init = o.random_init;
  mo.random_init_config = o.config;
  mo.random_init_seed = o.seed;
  mo.warm_batch_size = std::max(o.encode.max_batch_size, o.decode.max_batch_size);
  mo.loader = o.runtime_loader;
  mo.listener = s->listener_.get();
  mo.rollout = o.rollout;
  ASSIGN_OR_RETURN(s->models_, ModelManager::Create(mo));
  RETURN_IF_ERROR(RegisterRolloutMetrics(&s->registry_, s->models_.get()));

  SessionManager::Options so;
  so.max_sessions = o.max_sessions;
  so.idle_timeout = o.session_idle_timeout;
  so.observation_history = o.observation_history;
  so.max_sessions_per_client = static_cast<size_t>(o.max_sessions_per_client);
  ASSIGN_OR_RETURN(s->sessions_, SessionManager::Create(so));
  s->metrics_->SetSessionSource(s->sessions_.get());

  PolicyEngine::Options eo;
  eo.encode = QueueOptions(o.encode, s->metrics_.get());
  eo.decode = QueueOptions(o.decode, s->metrics_.get());
  // Both stages follow the policy: the decode stage by each robot's run-out, the encode stage by the gRPC
  // deadline (mostly none: arrival order), both with the no-wait rule for a lone robot.
  RETURN_IF_ERROR(ParseBatchPolicy(o.batch_policy, "--batch-policy", &eo.decode.policy));
  eo.encode.policy = eo.decode.policy;
  // Every live session may have a task in a stage: with all of them waiting, EDF takes the batch at once.
  // (The engine, and with it the queues, is destroyed before the sessions: member order.)
  eo.encode.sources = eo.decode.sources = [sessions = s->sessions_.get()] { return sessions->size(); };
  eo.limits = o.limits;
  eo.drop_on_chunk_end = o.drop_on_chunk_end;
  eo.realtime_chunking = o.realtime_chunking;
  ASSIGN_OR_RETURN(InputRanges ranges, InputRanges::Load(o.embodiment_dir));
  eo.ranges = std::make_shared<const InputRanges>(std::move(ranges));
  eo.image_decode_threads = o.image_decode_threads;
  eo.image_decode_max_pending = static_cast<size_t>(o.image_decode_max_pending);
  ServerMetrics* metrics = s->metrics_.get();
  eo.on_non_finite_output = [metrics](const Session&, const std::string& version) {
    metrics->RecordNonFiniteOutput(version);
  };
  eo.on_guided_act = [metrics] { metrics->RecordGuidedAct(); };
  eo.on_late_act = [metrics] { metrics->RecordLateAct(); };
  ASSIGN_OR_RETURN(s->engine_, PolicyEngine::Create(eo, s->models_.get()));
  ASSIGN_OR_RETURN(s->auth_, TokenAuthenticator::FromFile(o.token_file));

  InFlightLimiter::Options lo;
  lo.per_session = o.max_in_flight_per_session;
  lo.per_client = o.max_in_flight_per_client;
  s->limiter_ = std::make_unique<InFlightLimiter>(lo);
  TaskLabels::Options to;
  to.max_per_embodiment = static_cast<size_t>(o.max_task_labels);
  for (absl::string_view name : absl::StrSplit(o.task_labels, ',', absl::SkipWhitespace())) {
    to.preset.push_back(std::string(absl::StripAsciiWhitespace(name)));
  }
  s->task_labels_ = std::make_unique<TaskLabels>(to);
  RefusalLog::Options ro;
  ro.lines_per_second = o.refusal_log_per_second;
  ro.burst = o.refusal_log_burst;
  ro.max_value_bytes = o.limits.max_echo_bytes;
  ro.sink = o.refusal_log_sink;
  s->refusals_ = std::make_unique<RefusalLog>(ro);
  if (o.stream_idle_timeout > absl::ZeroDuration()) {
    ASSIGN_OR_RETURN(s->stream_watch_, StreamIdleWatch::Create(o.stream_idle_timeout));
  }
  PolicyService::Parts parts;
  parts.sessions = s->sessions_.get();
  parts.engine = s->engine_.get();
  parts.models = s->models_.get();
  parts.metrics = s->metrics_.get();
  parts.auth = s->auth_.get();
  parts.limiter = s->limiter_.get();
  parts.task_labels = s->task_labels_.get();
  parts.refusals = s->refusals_.get();
  parts.stream_watch = s->stream_watch_.get();
  parts.clients_by_address = o.clients_by_address;
  parts.min_control_rate_hz = o.limits.min_control_rate_hz;
  parts.max_control_rate_hz = o.limits.max_control_rate_hz;
  parts.max_control_request_bytes = static_cast<size_t>(o.max_control_request_bytes);
  s->service_ = std::make_unique<PolicyService>(parts);
  return s;
}

absl::Status PolicyServer::Start() {
  const ServerOptions& o = options_;
  // Process-wide, on glibc's malloc only: large blocks are mapped and given back, so bursts of big requests
  // do not leave the arenas holding their pages (core/util/malloc_tuning.h).
  // Under tcmalloc, the heap trimmer gives back what such bursts leave in its page heap (heap_trimmer.h).
  const bool fixed = FixMallocMmapThreshold(kServerMmapThresholdBytes);
  if (o.heap_keep_mib >= 0 && ProcessAllocator() == Allocator::kTcmalloc) {
    HeapTrimmer::Options ht;
    ht.keep_bytes = int64_t{o.heap_keep_mib} << 20;
    ServerMetrics* metrics = metrics_.get();
    ht.on_release = [metrics](int64_t bytes) { metrics->RecordHeapReleased(bytes); };
    ASSIGN_OR_RETURN(heap_trimmer_, HeapTrimmer::Create(std::move(ht)));
  }
  LogInfo(kComponent,
          absl::StrCat("memory allocator: ", AllocatorName(),
                       fixed ? absl::StrCat(", mmap threshold fixed at ", kServerMmapThresholdBytes >> 20, " MiB") : "",
                       heap_trimmer_
                           ? absl::StrCat(", free pages that stay free beyond ", o.heap_keep_mib,
                                          " MiB given back every ", absl::FormatDuration(HeapTrimmer::Options().window))
                           : ""));
  absl::Status loaded = models_->Start();
  if (!loaded.ok()) {
    if (o.random_init || loaded.code() != absl::StatusCode::kNotFound) return loaded;
    LogWarning(kComponent, absl::StrCat(loaded.message(), "; health stays NOT_SERVING until one loads"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> creds, ServerCredentialsFromFiles(o.tls));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(o.host, ":", o.port), creds, &port_);
  builder.SetMaxReceiveMessageSize(o.max_message_bytes);
  builder.SetMaxSendMessageSize(o.max_message_bytes);
  builder.RegisterService(service_.get());
  grpc_ = builder.BuildAndStart();
  if (!grpc_ || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", o.host, ":", o.port));
  }
  grpc_started_.store(true);
  UpdateServing();
  if (o.metrics_port >= 0) {
    MetricsEndpoint::Options mo;
    mo.bind_address = o.metrics_host;
    mo.port = o.metrics_port;
    mo.registry = &registry_;
    mo.deadline = o.metrics_deadline;
    mo.max_connections = o.metrics_max_connections;
    ASSIGN_OR_RETURN(metrics_http_, MetricsEndpoint::Start(mo));
  }
  LogInfo(kComponent, absl::StrCat("listening on ", o.host, ":", port_, o.tls.cert_file.empty() ? " (plaintext)" : " (TLS)",
                                   o.tls.client_ca_file.empty() ? "" : " with client certificates",
                                   auth_->enabled() ? ", bearer tokens required" : "",
                                   metrics_http_ ? absl::StrCat("; metrics on :", metrics_http_->port(), "/metrics") : ""));
  return absl::OkStatus();
}

void PolicyServer::UpdateServing() {
  // One rule, decided and applied under one lock, so that the start, a model's arrival (the poll
  // thread) and Shutdown cannot undo each other's answer.
  absl::MutexLock lock(&serving_mu_);
  const bool serving =
      grpc_started_.load() && !shut_down_.load() && models_ != nullptr && models_->current() != nullptr;
  serving_.store(serving);
  if (!grpc_) return;
  grpc::HealthCheckServiceInterface* health = grpc_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);
  health->SetServingStatus(kServiceName, serving);
}

bool PolicyServer::serving() const { return serving_.load(); }

absl::Status PolicyServer::AwaitServing(absl::Duration timeout) const {
  const absl::Time give_up = absl::Now() + timeout;
  while (!serving()) {
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(
          absl::StrCat("server not SERVING ", absl::FormatDuration(timeout), " after Start()"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::OkStatus();
}

void PolicyServer::Shutdown(absl::Duration drain) {
  if (shut_down_.exchange(true)) return;
  LogInfo(kComponent, absl::StrCat("shutting down: draining for up to ", absl::FormatDuration(drain)));
  UpdateServing();  // NOT_SERVING from now on
  if (service_) service_->StopAccepting();
  // The engine works on what it has for up to `drain` and then answers whatever is still queued
  // UNAVAILABLE (a batch already running finishes). That runs beside gRPC's shutdown, because gRPC stops
  // taking new calls at once but returns only when every accepted call has been answered: run after
  // it, the engine would first compute its whole queue, however long that takes. gRPC's own deadline
  // (after which it cancels what is left) allows the last answers a second to be written.
  std::thread engine_drain;
  if (engine_) engine_drain = std::thread([this, drain] { engine_->Shutdown(drain); });
  if (grpc_) {
    grpc_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(drain + kAnswerGrace));
    grpc_->Wait();
  }
  if (engine_drain.joinable()) engine_drain.join();
  if (metrics_http_) metrics_http_->Stop();
  if (models_) models_->Stop();
  heap_trimmer_.reset();
  LogInfo(kComponent, "stopped");
}

}  // namespace mivla::server
