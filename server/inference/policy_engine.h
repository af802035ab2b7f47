// File: policy_engine.h
// PolicyEngine: the domain layer behind the gRPC service. Observe and Act calls are validated on the
// caller's thread, then queued on one of two dynamic batching queues (server/batching/batch_queue.h):
//   encode: image decoding/resizing (on the image decode pool), then PolicyRuntime::Encode per batch;
//           the opaque condition is cached in the session with its parsed inputs;
//   decode: PolicyRuntime::Decode on cached conditions (re-encoding them first when the serving
//           runtime changed since), per Act; chunks become wire ActionChunks here.
// Torch-free: the model is reached only through server/runtime_api/policy_runtime.h.
// A chunk holding any non-finite value is answered INTERNAL (logged with session and model version,
// reported through Options::on_non_finite_output), never OK.
// Each queue has its own max_batch_size, max_queue_delay and bounded depth (full: RESOURCE_EXHAUSTED
// with a retry hint); requests whose deadline passed are dropped before compute; batches mix
// embodiments. Inference runs on the queues' worker threads only. Every call pins the model version
// current when it was accepted and finishes on it, across hot reloads.
//
//   auto engine = PolicyEngine::Create(options, &models);  // sessions come with each call
//   (*engine)->Observe(session, &request, &response, deadline, [](absl::Status s) { /* reply */ });
//   (*engine)->Shutdown(absl::Seconds(10));
//
// Thread-safety: Observe/Act may be called concurrently from any thread; `done` runs on a worker thread
// (or on the caller's thread when the call is refused before queueing). Shutdown once, after callers stop.
#ifndef MIVLA_SERVER_INFERENCE_POLICY_ENGINE_H_
#define MIVLA_SERVER_INFERENCE_POLICY_ENGINE_H_

#include <atomic>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/batching/batch_queue.h"
#include "server/inference/engine_tasks.h"
#include "server/inference/image_decode_pool.h"
#include "server/inference/input_limits.h"
#include "server/inference/input_ranges.h"
#include "server/model_manager/model_manager.h"

namespace mivla::server {

class PolicyEngine {
 public:
  struct Options {
    BatchQueueOptions encode;  // name forced to "encode"
    BatchQueueOptions decode;  // name forced to "decode"
    InputLimits limits;
    std::shared_ptr<const InputRanges> ranges;  // joint/gripper limits per embodiment; null: generic bounds
    int image_decode_threads = 2;               // image decode pool (image_decode_pool.h)
    size_t image_decode_max_pending = 64;
    /// Also drop (DEADLINE_EXCEEDED) Acts whose run-out was derived from the session's last chunk rather
    /// than declared in ActRequest.deadline_us (act_deadline.h); off: such run-outs only order the queue.
    bool drop_on_chunk_end = false;
    /// Called for every late Act, on a decode worker or where the queued Act was dropped. An Act is late
    /// when the server made its robot run out of actions: the robot still had actions when it asked (a
    /// declared run-out, ActDeadline::late_after) and had none left when the Act was answered or dropped
    /// (DEADLINE_EXCEEDED). A robot already out of actions when it asked (e.g. its first Act), an Act
    /// without a declared run-out, and one dropped for its gRPC deadline before the run-out are never late.
    std::function<void()> on_late_act;
    /// Real-time chunking (issue 14): Acts that carry committed steps are sampled with guidance
    /// (realtime_prefix.h, DecodeItem::executed_prefix). Off: the fields are validated, then ignored.
    bool realtime_chunking = true;
    /// Called (on a decode worker) for every Act answered OK whose chunk was sampled with guidance.
    std::function<void()> on_guided_act;
    /// Called (on a decode worker) for every chunk refused because it held a non-finite value.
    std::function<void(const Session& session, const std::string& model_version)> on_non_finite_output;
  };

  static absl::StatusOr<std::unique_ptr<PolicyEngine>> Create(Options options, const ModelManager* models);
  ~PolicyEngine();

  /// Encodes the observation and caches it in `session`; fills `response` then calls `done`.
  void Observe(std::shared_ptr<Session> session, const mivla::v1::ObserveRequest* request,
               mivla::v1::ObserveResponse* response, absl::Time deadline, DoneFn done);
  /// Samples a chunk for the session's latest (observation_id 0) or a named observation.
  void Act(std::shared_ptr<Session> session, const mivla::v1::ActRequest* request,
           mivla::v1::ActResponse* response, absl::Time deadline, DoneFn done);

  /// New calls get UNAVAILABLE; queued ones finish within `drain` (the rest get UNAVAILABLE).
  void Shutdown(absl::Duration drain);

  const Options& options() const { return options_; }
  size_t encode_depth() const;
  size_t decode_depth() const;

 private:
  PolicyEngine(Options options, const ModelManager* models) : options_(std::move(options)), models_(models) {}
  void ProcessEncode(std::vector<std::unique_ptr<EncodeTask>> batch);
  void ProcessDecode(std::vector<std::unique_ptr<DecodeTask>> batch);
  void EncodeGroup(const PolicyRuntime& runtime, std::vector<EncodeTask*> tasks, absl::Time started);
  void DecodeGroup(const PolicyRuntime& runtime, std::vector<DecodeTask*> tasks, absl::Time started);
  /// Reports `task` (answered or dropped at `now`) to Options::on_late_act when it is late.
  void RecordIfLate(const DecodeTask& task, absl::Time now) const;
  /// Re-encodes `stale` tasks' kept inputs with `runtime`; answers the ones that fail and returns the rest.
  std::vector<DecodeTask*> ReEncode(const PolicyRuntime& runtime, const std::vector<DecodeTask*>& stale);

  const Options options_;
  const ModelManager* models_;
  std::atomic<bool> accepting_{true};
  std::unique_ptr<ImageDecodePool> decode_pool_;  // before the queues: its jobs schedule into encode_
  std::unique_ptr<BatchQueue<EncodeTask>> encode_;
  std::unique_ptr<BatchQueue<DecodeTask>> decode_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_POLICY_ENGINE_H_
