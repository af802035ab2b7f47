// File: engine_tasks.h
// The work items of PolicyEngine's two batching queues. A task owns what its stage needs, borrows the
// caller's request/response (alive until `done` runs) and pins the model version (PolicyRuntime) it
// started on.
// `done` is called exactly once, from a stage worker (or from the scheduling thread on refusal).
#ifndef MIVLA_SERVER_INFERENCE_ENGINE_TASKS_H_
#define MIVLA_SERVER_INFERENCE_ENGINE_TASKS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "mivla/v1/policy.pb.h"
#include "server/batching/task_list.h"
#include "server/runtime_api/policy_runtime.h"
#include "server/session/session.h"

namespace mivla::server {

using DoneFn = std::function<void(absl::Status)>;

struct EncodeTask {
  absl::Time deadline() const { return deadline_; }
  absl::Time deadline_ = absl::InfiniteFuture();
  absl::Time arrival;   // when the RPC arrived
  absl::Time enqueued;  // when it entered the encode queue
  std::shared_ptr<Session> session;
  std::shared_ptr<const PolicyRuntime> runtime;
  const mivla::v1::ObserveRequest* request = nullptr;
  mivla::v1::ObserveResponse* response = nullptr;
  uint64_t observation_id = 0;
  std::string instruction;
  int64_t image_decode_us = 0;       // the longest time a pool thread spent decoding one of this task's images
  std::vector<RuntimeImage> images;  // decoded RGB8, resized to the runtime's input side (image decode pool)
  DoneFn done;
};

struct DecodeTask {
  absl::Time deadline() const { return deadline_; }
  absl::Time deadline_ = absl::InfiniteFuture();  // past it while queued: DEADLINE_EXCEEDED (act_deadline.h)
  absl::Time urgency = absl::InfiniteFuture();    // EDF key: when the robot runs out of actions
  absl::Time run_out = absl::InfiniteFuture();    // the same when known (request or last chunk), else infinite
  absl::Time late_after = absl::InfiniteFuture();  // answered or dropped from then on: late (ActDeadline)
  absl::Time arrival;
  absl::Time enqueued;
  std::shared_ptr<Session> session;
  std::shared_ptr<const PolicyRuntime> runtime;
  std::shared_ptr<const EncodedObservation> observation;
  uint64_t seed = 0;  // resolved: never 0 here
  // Real-time chunking: the request's committed steps on the model's steps (realtime_prefix.h); empty:
  // plain sampling (none sent, or the server runs with --realtime-chunking=false).
  std::vector<float> executed_prefix;
  int frozen_steps = 0;
  mivla::v1::ActResponse* response = nullptr;
  int64_t extra_queue_us = 0;  // time already spent queued (streams: the encode queue)
  DoneFn done;
};

// The decode queue drops a task past deadline_ and orders by urgency (it may lie in the past).
template <>
struct BatchTaskTraits<DecodeTask> {
  static absl::Time Deadline(const DecodeTask& t) { return t.deadline_; }
  static absl::Time Urgency(const DecodeTask& t) { return t.urgency; }
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_ENGINE_TASKS_H_
