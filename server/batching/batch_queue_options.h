// File: batch_queue_options.h
// Non-template pieces of BatchQueue<Task> (batch_queue.h): its Options, the metrics Observer, and the
// helpers that validate options and word the RESOURCE_EXHAUSTED retry hint.
//
//   BatchQueueOptions options;
//   options.name = "encode";
//   options.max_batch_size = 16;
//   options.max_queue_delay = absl::Milliseconds(2);
//   options.max_queue_depth = 64;
//   options.observer = &my_metrics_observer;  // optional, borrowed
#ifndef MIVLA_SERVER_BATCHING_BATCH_QUEUE_OPTIONS_H_
#define MIVLA_SERVER_BATCHING_BATCH_QUEUE_OPTIONS_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace mivla::server {

/// Metrics hooks of one queue. Every method has an empty default, so an observer overrides only what it
/// records. Methods are called from worker threads and from Schedule()'s caller, concurrently: an
/// implementation must be thread-safe, fast and non-blocking, and must never call back into the queue.
class BatchQueueObserver {
 public:
  virtual ~BatchQueueObserver() = default;

  /// The number of waiting tasks changed (after Schedule, batch formation, drop). Called with the
  /// queue's lock held, so successive calls are ordered and the last one is the current depth.
  virtual void OnQueueDepth(const std::string& queue, size_t depth) {}
  /// A task left the queue for a batch after waiting `wait` since Schedule(). No lock held.
  virtual void OnTaskDequeued(const std::string& queue, absl::Duration wait) {}
  /// A batch of `size` tasks was processed; ProcessBatchFn took `process_time`. No lock held.
  virtual void OnBatch(const std::string& queue, size_t size, absl::Duration process_time) {}
  /// A task was dropped (deadline passed, or left over at shutdown) with `reason`. No lock held.
  virtual void OnTaskDropped(const std::string& queue, const absl::Status& reason) {}
  /// Schedule() refused a task because the queue was full. No lock held.
  virtual void OnRejected(const std::string& queue) {}
};

/// How a queue orders its waiting tasks and when it takes a batch (batch_planner.h).
///   kFifo: arrival order; a batch is taken when max_batch_size tasks wait or the oldest has waited
///          max_queue_delay.
///   kEdf:  earliest deadline first (BatchTaskTraits<Task>::Urgency); the batch is sized from the measured
///          per-batch-size cost so the earliest deadline is met when it can be, and the queue waits for
///          more tasks (at most max_queue_delay) only while another one is expected in time to join
///          (and, with `sources`, while fewer tasks wait than there are producers).
enum class BatchPolicy { kFifo, kEdf };

/// "fifo" / "edf".
const char* BatchPolicyName(BatchPolicy policy);
/// Parses "fifo" or "edf"; INVALID_ARGUMENT naming `field` otherwise.
absl::Status ParseBatchPolicy(const std::string& text, const std::string& field, BatchPolicy* policy);

struct BatchQueueOptions {
  /// Ordering and batch formation; see BatchPolicy.
  BatchPolicy policy = BatchPolicy::kFifo;
  /// Largest batch handed to ProcessBatchFn; >= 1.
  size_t max_batch_size = 8;
  /// How long the oldest waiting task may wait for a batch to fill before a partial batch is taken;
  /// >= 0 (0 = take whatever is waiting as soon as a worker is free).
  absl::Duration max_queue_delay = absl::Milliseconds(2);
  /// Most tasks waiting (not counting those in batches being processed); >= 1. Beyond it Schedule()
  /// answers RESOURCE_EXHAUSTED.
  size_t max_queue_depth = 64;
  /// Worker threads, each processing one batch at a time; >= 1.
  int num_workers = 1;
  /// Used in status messages, metrics labels and observer calls, e.g. "encode".
  std::string name = "batch";
  /// Optional, borrowed: must outlive the queue.
  BatchQueueObserver* observer = nullptr;
  /// kEdf only, optional: how many producers could have a task waiting now, e.g. the live robot sessions
  /// (a closed-loop robot has at most one task in a stage: it asks again only once answered). When that
  /// many tasks wait already, no other can join, so a batch goes at once instead of waiting for the next
  /// arrival the queue's statistics expect. Called with the queue's lock held: it must be fast and must
  /// not wait for anything that may hold that lock (Schedule's callers). Null: the statistics alone.
  std::function<size_t()> sources;
};

/// INVALID_ARGUMENT naming the field when `options` breaks a constraint above; OK otherwise.
absl::Status ValidateBatchQueueOptions(const BatchQueueOptions& options);

/// Estimated wait before a refused caller should retry: the time the workers need to work off a full
/// queue at `avg_batch_latency` per batch (at least 1 ms; max_queue_delay when no batch ran yet).
absl::Duration EstimateRetryAfter(const BatchQueueOptions& options, absl::Duration avg_batch_latency);

/// RESOURCE_EXHAUSTED("<name> queue full (depth D); retry after ~N ms").
absl::Status QueueFullError(const BatchQueueOptions& options, absl::Duration retry_after);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_BATCHING_BATCH_QUEUE_OPTIONS_H_
