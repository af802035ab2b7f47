// File: task_list.h
// TaskList<Task>: the FIFO behind BatchQueue<Task> (batch_queue.h) — owned tasks with their enqueue
// times, and TakeBatch(), which splits the front of the list into a batch of live tasks and the expired
// ones it passed over. BatchTaskTraits<Task> says how to read a task's deadline.
//
//   TaskList<Task> list;
//   list.Push(std::move(task), absl::Now());
//   TaskList<Task>::Batch b = list.TakeBatch(/*max_size=*/8, absl::Now());
//   // b.tasks: up to 8 live tasks, FIFO; b.waits[i]: how long b.tasks[i] waited; b.expired: dropped.
//
// Thread safety: none; BatchQueue guards it with its mutex.
#ifndef MIVLA_SERVER_BATCHING_TASK_LIST_H_
#define MIVLA_SERVER_BATCHING_TASK_LIST_H_

#include <algorithm>
#include <cstddef>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace mivla::batching {

/// Specialise to give a Task type without `absl::Time deadline() const` a deadline.
template <typename Task>
struct BatchTaskTraits {
  static absl::Time Deadline(const Task& task) { return task.deadline(); }
};

template <typename Task>
class TaskList {
 public:
  struct Entry {
    std::unique_ptr<Task> task;
    absl::Time enqueued;
  };
  struct Batch {
    std::vector<std::unique_ptr<Task>> tasks;    // live, FIFO order
    std::vector<absl::Duration> waits;           // waits[i]: queue time of tasks[i]
    std::vector<std::unique_ptr<Task>> expired;  // deadline <= now, FIFO order
  };

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  /// Requires !empty().
  absl::Time oldest_enqueue_time() const { return entries_.front().enqueued; }

  void Push(std::unique_ptr<Task> task, absl::Time now) {
    entries_.push_back(Entry{std::move(task), now});
  }

  /// Requires !empty().
  Entry Pop() {
    Entry entry = std::move(entries_.front());
    entries_.pop_front();
    return entry;
  }

  /// Pops from the front until `max_size` live tasks are taken or the list is empty. Tasks whose
  /// deadline is at or before `now` go to `expired` and do not count against `max_size`.
  Batch TakeBatch(size_t max_size, absl::Time now) {
    Batch batch;
    batch.tasks.reserve(std::min(max_size, entries_.size()));
    while (!entries_.empty() && batch.tasks.size() < max_size) {
      Entry entry = Pop();
      if (BatchTaskTraits<Task>::Deadline(*entry.task) <= now) {
        batch.expired.push_back(std::move(entry.task));
      } else {
        batch.waits.push_back(now - entry.enqueued);
        batch.tasks.push_back(std::move(entry.task));
      }
    }
    return batch;
  }

 private:
  std::deque<Entry> entries_;
};

}  // namespace mivla::batching

#endif  // MIVLA_SERVER_BATCHING_TASK_LIST_H_
