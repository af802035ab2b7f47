// File: batch_queue.h
// BatchQueue<Task>: a bounded, deadline-aware dynamic batching queue (after TF Serving's
// SharedBatchScheduler queue and Triton's dynamic batcher). Producers Schedule() tasks; worker threads
// form batches of 1..max_batch_size tasks and hand each to ProcessBatchFn. Options::policy picks how
// (batch_planner.h): kFifo takes tasks in arrival order as soon as max_batch_size wait or the oldest has
// waited max_queue_delay; kEdf orders them earliest deadline first, sizes each batch from a cost model
// learnt from the batches it ran (batch_cost_model.h) so the earliest deadline is met when it can be,
// and waits for a batch to fill only while another task is expected in time to join it.
// Tasks whose deadline has passed are given to DropFn (DEADLINE_EXCEEDED) instead, never computed.
//
// Task requirement: `absl::Time deadline() const` (absl::InfiniteFuture() for none), or a
// specialisation of BatchTaskTraits<Task> (which may also give an EDF key other than the deadline).
//
//   struct EncodeTask { absl::Time deadline() const; Observation obs; Callback done; };
//   auto queue = BatchQueue<EncodeTask>::Create(
//       options,
//       [&](std::vector<std::unique_ptr<EncodeTask>> batch) { encoder.Run(batch); /* answers each */ },
//       [](std::unique_ptr<EncodeTask> task, absl::Status why) { task->done(why); });
//   if (!queue.ok()) return queue.status();
//   absl::Status s = (*queue)->Schedule(task);  // OK: queue owns task. Error: caller still owns it.
//   ...
//   (*queue)->Shutdown(absl::Seconds(5));  // drain, drop the rest, join workers
//
// Thread safety: Schedule(), depth() and Shutdown() may be called from any thread concurrently.
// ProcessBatchFn runs on a worker thread (never Schedule()'s caller), one batch per worker at a time;
// with num_workers > 1 batches run concurrently and may finish out of order. Neither callback may throw
// nor call Shutdown() or destroy the queue; they may Schedule().
#ifndef MIVLA_SERVER_BATCHING_BATCH_QUEUE_H_
#define MIVLA_SERVER_BATCHING_BATCH_QUEUE_H_

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/util/thread_name.h"
#include "server/batching/arrival_stats.h"
#include "server/batching/batch_cost_model.h"
#include "server/batching/batch_planner.h"
#include "server/batching/batch_queue_options.h"
#include "server/batching/task_list.h"

namespace mivla::server {

template <typename Task>
class BatchQueue {
 public:
  using Options = BatchQueueOptions;
  /// Receives 1..max_batch_size tasks (arrival order, or earliest deadline first under kEdf) and owns
  /// them; answers each task itself.
  using ProcessBatchFn = std::function<void(std::vector<std::unique_ptr<Task>> batch)>;
  /// Receives a task that will not be processed, with DEADLINE_EXCEEDED (deadline passed while queued)
  /// or UNAVAILABLE (still queued when Shutdown's drain ended). Runs on a worker thread or on the
  /// thread that calls Shutdown() / the destructor.
  using DropFn = std::function<void(std::unique_ptr<Task> task, absl::Status reason)>;

  /// INVALID_ARGUMENT on bad options or a null callback. Starts options.num_workers threads.
  static absl::StatusOr<std::unique_ptr<BatchQueue>> Create(Options options, ProcessBatchFn process,
                                                            DropFn on_dropped) {
    absl::Status valid = ValidateBatchQueueOptions(options);
    if (!valid.ok()) return valid;
    if (!process || !on_dropped) {
      return absl::InvalidArgumentError(
          absl::StrCat("batch queue '", options.name, "': process and on_dropped must be set"));
    }
    auto queue = absl::WrapUnique(
        new BatchQueue(std::move(options), std::move(process), std::move(on_dropped)));
    for (int i = 0; i < queue->options_.num_workers; ++i) {
      queue->workers_.push_back(
          StartNamedThread(absl::StrCat(queue->options_.name, "-", i), [q = queue.get()] { q->WorkerLoop(); }));
    }
    return queue;
  }

  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;
  /// Shutdown(absl::ZeroDuration()): batches already taken finish; waiting tasks go to DropFn.
  ~BatchQueue() { Shutdown(absl::ZeroDuration()); }

  /// Enqueues `task` (non-null). OK: the queue owns it and `task` is null. Error: `task` is untouched
  /// and still owned by the caller — RESOURCE_EXHAUSTED with a retry hint when max_queue_depth tasks
  /// wait, UNAVAILABLE once Shutdown() has begun, INVALID_ARGUMENT for a null task.
  absl::Status Schedule(std::unique_ptr<Task>& task) ABSL_LOCKS_EXCLUDED(mu_) {
    if (task == nullptr) return absl::InvalidArgumentError(options_.name + " queue: null task");
    absl::Duration retry_after;
    {
      absl::MutexLock lock(&mu_);
      if (!accepting_) {
        return absl::UnavailableError(options_.name + " queue is shutting down");
      }
      if (queue_.size() < options_.max_queue_depth) {
        const absl::Time now = absl::Now();
        if (options_.policy == BatchPolicy::kEdf) {  // only kEdf's planner reads them
          arrivals_.Record(now, internal::UrgencyOf(*task, 0) - now, cost_.Estimate(1));
        }
        queue_.Push(std::move(task), now);
        ReportDepthLocked();
        cv_.Signal();
        return absl::OkStatus();
      }
      retry_after = EstimateRetryAfter(options_, avg_batch_latency_);
    }
    if (options_.observer != nullptr) options_.observer->OnRejected(options_.name);
    return QueueFullError(options_, retry_after);
  }

  /// Tasks waiting now (not counting batches being processed).
  size_t depth() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }

  /// Stops accepting (Schedule() answers UNAVAILABLE from now on), lets the workers take waiting tasks
  /// without waiting for batches to fill until the queue is empty or `drain` has passed, then gives the
  /// tasks still waiting to DropFn (UNAVAILABLE) on this thread and joins the workers, which finish
  /// their current batch first. Blocks until done; later or concurrent calls return after the first.
  void Shutdown(absl::Duration drain) ABSL_LOCKS_EXCLUDED(mu_, shutdown_mu_) {
    absl::MutexLock shutdown_lock(&shutdown_mu_);
    if (joined_) return;
    TaskList<Task> leftovers;
    {
      absl::MutexLock lock(&mu_);
      accepting_ = false;
      cv_.SignalAll();
      mu_.AwaitWithTimeout(absl::Condition(this, &BatchQueue::QueueEmpty), drain);
      leftovers = std::move(queue_);
      queue_ = TaskList<Task>(options_.policy == BatchPolicy::kEdf);
      stop_ = true;
      ReportDepthLocked();
      cv_.SignalAll();
    }
    const absl::Status reason =
        absl::UnavailableError(options_.name + " queue shut down before the task was processed");
    while (!leftovers.empty()) Drop(leftovers.Pop().task, reason);
    for (std::thread& worker : workers_) worker.join();
    joined_ = true;
  }

 private:
  BatchQueue(Options options, ProcessBatchFn process, DropFn on_dropped)
      : options_(std::move(options)),
        process_(std::move(process)),
        on_dropped_(std::move(on_dropped)),
        queue_(options_.policy == BatchPolicy::kEdf),
        cost_(options_.max_batch_size) {}

  bool QueueEmpty() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_.empty(); }

  void ReportDepthLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (options_.observer != nullptr) options_.observer->OnQueueDepth(options_.name, queue_.size());
  }

  void Drop(std::unique_ptr<Task> task, const absl::Status& reason) {
    if (options_.observer != nullptr) options_.observer->OnTaskDropped(options_.name, reason);
    on_dropped_(std::move(task), reason);
  }

  // Blocks until a batch is due (its plan in *out; take 0: only expired tasks to drop); false when the
  // worker should exit. Tasks found
  // past their deadline meanwhile are moved to *expired (the caller drops them without the lock).
  bool WaitForBatch(BatchPlan* out, std::vector<std::unique_ptr<Task>>* expired) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (true) {
      if (stop_) return false;
      if (queue_.empty()) {
        if (!accepting_) return false;  // drained
        cv_.Wait(&mu_);
        continue;
      }
      const absl::Time now = absl::Now();
      std::vector<std::unique_ptr<Task>> late = queue_.TakeExpired(now);
      if (!late.empty()) {
        for (auto& t : late) expired->push_back(std::move(t));
        ReportDepthLocked();
        if (queue_.empty()) {
          *out = BatchPlan();
          return true;  // let the caller drop them now
        }
      }
      PlanInput in;
      in.now = now;
      in.waiting = queue_.size();
      if (options_.policy == BatchPolicy::kEdf) {
        in.infeasible = queue_.CountUrgentBefore(now + cost_.Estimate(1));
        in.earliest_deadline =
            in.infeasible < queue_.size() ? queue_.urgency_at(in.infeasible) : absl::InfiniteFuture();
      }
      in.oldest_enqueued = queue_.oldest_enqueue_time();
      in.next_arrival = arrivals_.next_arrival();
      in.arrival_gap = arrivals_.servable_gap();
      in.draining = !accepting_;
      in.blocking_budget = arrivals_.blocking_budget(now);
      if (options_.policy == BatchPolicy::kEdf && options_.sources) in.sources = options_.sources();
      const BatchPlan plan = PlanBatch(options_, cost_, in);
      if (plan.take > 0 || !expired->empty()) {
        *out = plan.take > 0 ? plan : BatchPlan();
        return true;
      }
      cv_.WaitWithDeadline(&mu_, plan.wake);
    }
  }

  void WorkerLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    const absl::Status expired_reason =
        absl::DeadlineExceededError(options_.name + " queue: deadline passed while queued");
    while (true) {
      typename TaskList<Task>::Batch taken;
      {
        absl::MutexLock lock(&mu_);
        BatchPlan plan;
        if (!WaitForBatch(&plan, &taken.expired)) return;
        if (plan.take > 0) {
          typename TaskList<Task>::Batch batch = plan.skip > 0 ? queue_.TakeFrom(plan.skip, plan.take, absl::Now())
                                                               : queue_.TakeBatch(plan.take, absl::Now());
          taken.tasks = std::move(batch.tasks);
          taken.waits = std::move(batch.waits);
          for (auto& t : batch.expired) taken.expired.push_back(std::move(t));
        }
        ReportDepthLocked();
        if (!queue_.empty()) cv_.Signal();  // let another idle worker look at the rest
      }
      for (std::unique_ptr<Task>& task : taken.expired) Drop(std::move(task), expired_reason);
      if (taken.tasks.empty()) continue;
      if (options_.observer != nullptr) {
        for (absl::Duration wait : taken.waits) options_.observer->OnTaskDequeued(options_.name, wait);
      }
      const size_t size = taken.tasks.size();
      const absl::Time start = absl::Now();
      process_(std::move(taken.tasks));
      const absl::Duration latency = absl::Now() - start;
      if (options_.observer != nullptr) options_.observer->OnBatch(options_.name, size, latency);
      absl::MutexLock lock(&mu_);
      cost_.Record(size, latency);
      avg_batch_latency_ = avg_batch_latency_ == absl::ZeroDuration()
                               ? latency
                               : avg_batch_latency_ * 0.8 + latency * 0.2;
    }
  }

  const Options options_;
  const ProcessBatchFn process_;
  const DropFn on_dropped_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // signalled on Schedule, on shutdown, and when a worker leaves tasks behind
  TaskList<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool accepting_ ABSL_GUARDED_BY(mu_) = true;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration avg_batch_latency_ ABSL_GUARDED_BY(mu_);  // EWMA of ProcessBatchFn time
  BatchCostModel cost_ ABSL_GUARDED_BY(mu_);               // ProcessBatchFn time per batch size (kEdf)
  ArrivalStats arrivals_ ABSL_GUARDED_BY(mu_);             // accepted Schedule() calls: gaps, slack (kEdf's planner)

  absl::Mutex shutdown_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::vector<std::thread> workers_;  // written in Create only; joined under shutdown_mu_
  bool joined_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_BATCHING_BATCH_QUEUE_H_
