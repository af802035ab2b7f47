// File: task_list.h
// TaskList<Task>: the list behind BatchQueue<Task> (batch_queue.h) — owned tasks with their enqueue
// times, in arrival order (kFifo) or by urgency, earliest first, ties in arrival order (kEdf); and
// TakeBatch(), which splits the front of the list into a batch of live tasks and the expired ones it
// passed over. BatchTaskTraits<Task> says how to read a task's deadline (past it the task is dropped)
// and its urgency (the EDF key; by default the deadline).
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

namespace mivla::server {

/// Specialise to give a Task type without `absl::Time deadline() const` a deadline, or an EDF key
/// other than its deadline (e.g. a robot's run-out time that may already have passed).
template <typename Task>
struct BatchTaskTraits {
  static absl::Time Deadline(const Task& task) { return task.deadline(); }
  static absl::Time Urgency(const Task& task) { return task.deadline(); }
};

namespace internal {
// The EDF key: BatchTaskTraits<Task>::Urgency when the traits have one, else the deadline.
template <typename Task>
auto UrgencyOf(const Task& task, int) -> decltype(BatchTaskTraits<Task>::Urgency(task)) {
  return BatchTaskTraits<Task>::Urgency(task);
}
template <typename Task>
absl::Time UrgencyOf(const Task& task, long) {  // NOLINT(runtime/int): overload rank only
  return BatchTaskTraits<Task>::Deadline(task);
}
}  // namespace internal

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

  /// `by_urgency`: keep the list ordered by BatchTaskTraits<Task>::Urgency (EDF) instead of arrival.
  explicit TaskList(bool by_urgency = false) : by_urgency_(by_urgency) {}

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  /// Requires !empty(). The earliest enqueue time of any waiting task.
  absl::Time oldest_enqueue_time() const {
    absl::Time oldest = entries_.front().enqueued;
    if (by_urgency_) {
      for (const Entry& e : entries_) oldest = std::min(oldest, e.enqueued);
    }
    return oldest;
  }
  /// Requires !empty(). The urgency of the front task (the earliest, when ordered by urgency).
  absl::Time front_urgency() const { return internal::UrgencyOf(*entries_.front().task, 0); }

  void Push(std::unique_ptr<Task> task, absl::Time now) {
    if (!by_urgency_) {
      entries_.push_back(Entry{std::move(task), now});
      return;
    }
    const absl::Time key = internal::UrgencyOf(*task, 0);
    auto it = std::upper_bound(entries_.begin(), entries_.end(), key, [](absl::Time k, const Entry& e) {
      return k < internal::UrgencyOf(*e.task, 0);
    });
    entries_.insert(it, Entry{std::move(task), now});
  }

  /// How many tasks from the front have an urgency before `t` (with by_urgency: a prefix of the list).
  size_t CountUrgentBefore(absl::Time t) const {
    size_t n = 0;
    while (n < entries_.size() && internal::UrgencyOf(*entries_[n].task, 0) < t) ++n;
    return n;
  }
  /// Requires skip < size(). The urgency of the task at index `skip`.
  absl::Time urgency_at(size_t skip) const { return internal::UrgencyOf(*entries_[skip].task, 0); }

  /// Takes up to `max_size` tasks: first from index `skip` on in list order, then, when those run out,
  /// from the front (indices below `skip`) longest-waiting first, so that tasks which have all lost
  /// their deadlines share the stage fairly instead of the earliest always winning. No task here is
  /// expired (call TakeExpired first).
  Batch TakeFrom(size_t skip, size_t max_size, absl::Time now) {
    skip = std::min(skip, entries_.size());
    std::vector<size_t> order;
    for (size_t i = skip; i < entries_.size(); ++i) order.push_back(i);
    std::vector<size_t> front;
    for (size_t i = 0; i < skip; ++i) front.push_back(i);
    std::stable_sort(front.begin(), front.end(),
                     [&](size_t a, size_t b) { return entries_[a].enqueued < entries_[b].enqueued; });
    order.insert(order.end(), front.begin(), front.end());
    Batch batch;
    std::vector<bool> taken(entries_.size(), false);
    for (size_t k = 0; k < order.size() && batch.tasks.size() < max_size; ++k) {
      Entry& e = entries_[order[k]];
      batch.waits.push_back(now - e.enqueued);
      batch.tasks.push_back(std::move(e.task));
      taken[order[k]] = true;
    }
    std::deque<Entry> left;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (!taken[i]) left.push_back(std::move(entries_[i]));
    }
    entries_ = std::move(left);
    return batch;
  }

  /// Removes every task whose deadline is at or before `now`, wherever it waits, in list order.
  std::vector<std::unique_ptr<Task>> TakeExpired(absl::Time now) {
    std::vector<std::unique_ptr<Task>> expired;
    std::deque<Entry> live;
    for (Entry& e : entries_) {
      if (BatchTaskTraits<Task>::Deadline(*e.task) <= now) {
        expired.push_back(std::move(e.task));
      } else {
        live.push_back(std::move(e));
      }
    }
    entries_ = std::move(live);
    return expired;
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
  bool by_urgency_;
  std::deque<Entry> entries_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_BATCHING_TASK_LIST_H_
