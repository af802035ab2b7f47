// File: server_metrics.h
// The policy server's metric families (Prometheus names below), and the adapters that feed them: the
// batching queues' observer, the model manager's listener, and calls from the gRPC layer.
//
//   mivla_requests_total{rpc,code}                    counter   every finished RPC
//   mivla_request_latency_seconds{rpc}                histogram arrival -> reply, per RPC
//   mivla_stage_latency_seconds{stage}                histogram stage = queue | encode | decode | total
//   mivla_batch_size{stage}                           histogram stage = encode | decode
//   mivla_queue_depth{stage}                          gauge     tasks waiting
//   mivla_queue_rejected_total{stage}                 counter   RESOURCE_EXHAUSTED (queue full)
//   mivla_queue_dropped_total{stage}                  counter   deadline passed / shutdown
//   mivla_deadline_exceeded_total{stage}              counter   of those, deadline passed (DEADLINE_EXCEEDED)
//   mivla_active_sessions{embodiment}                 gauge     refreshed at scrape time
//   mivla_model_info{version}                         gauge     1 for the serving version
//   mivla_model_reloads_total{result}                 counter   result = ok | failed
//   mivla_episodes_total{embodiment,task}             counter   from ReportEpisode
//   mivla_episode_successes_total{embodiment,task}    counter
//   mivla_episode_completeness{embodiment,task}       histogram 0..1
//   mivla_non_finite_outputs_total{version}           counter   chunks refused for NaN/Inf (INTERNAL)
//   mivla_realtime_chunking_acts_total                counter   Acts answered with a guided (inpainted) chunk
//   mivla_late_acts_total                             counter   Acts whose robot asked before its declared run-out
//                                                               and ran out before the Act was answered or
//                                                               dropped (policy_engine.h)
//   mivla_heap_released_bytes_total                   counter   free pages the heap trimmer gave back to the
//                                                               kernel (heap_trimmer.h; tcmalloc only: what
//                                                               stayed free for 30 s beyond --heap-keep-mib)
//   process_*                                         resident memory, CPU, threads, start time
//
// Thread-safety: every method may be called from any thread.
#ifndef MIVLA_SERVER_SERVICE_SERVER_METRICS_H_
#define MIVLA_SERVER_SERVICE_SERVER_METRICS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/metrics/registry.h"
#include "mivla/v1/policy.pb.h"
#include "server/batching/batch_queue_options.h"
#include "server/model_manager/model_manager.h"
#include "server/session/session_manager.h"

namespace mivla::server {

class ServerMetrics : public BatchQueueObserver, public ModelManager::Listener {
 public:
  /// Registers every family (and the process_* ones) in `registry` (borrowed, outlives this).
  static absl::StatusOr<std::unique_ptr<ServerMetrics>> Create(metrics::Registry* registry);
  ~ServerMetrics() override;

  /// Sessions gauge source, read at every scrape (borrowed; set once before serving).
  void SetSessionSource(const SessionManager* sessions);

  void RecordRequest(const std::string& rpc, int grpc_code, double seconds);
  void RecordTiming(const mivla::v1::ServerTiming& timing);
  void RecordEpisode(const std::string& embodiment, const std::string& task, bool success, double completeness);
  void RecordNonFiniteOutput(const std::string& model_version);
  void RecordGuidedAct();
  void RecordLateAct();
  void RecordHeapReleased(int64_t bytes);

  // BatchQueueObserver
  void OnQueueDepth(const std::string& queue, size_t depth) override;
  void OnBatch(const std::string& queue, size_t size, absl::Duration process_time) override;
  void OnTaskDropped(const std::string& queue, const absl::Status& reason) override;
  void OnRejected(const std::string& queue) override;
  // ModelManager::Listener
  void OnModelLoaded(const std::string& version, const std::string& path, absl::Duration took) override;
  void OnModelLoadFailed(const std::string& path, const absl::Status& why) override;

 private:
  struct Families;
  explicit ServerMetrics(metrics::Registry* registry);
  void RefreshSessions();

  metrics::Registry* registry_;
  std::unique_ptr<Families> f_;
  absl::Mutex mu_;
  const SessionManager* sessions_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string serving_version_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_SERVER_METRICS_H_
