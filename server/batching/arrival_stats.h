// File: arrival_stats.h
// ArrivalStats: what BatchQueue's planner (batch_planner.h) knows about tasks that have not arrived yet,
// learnt from those that did, each with its slack (urgency - arrival) and the cost model's estimate for
// a batch of one at that moment:
//   * next_arrival: the last arrival plus the mean gap between arrivals (every arrival counts);
//   * servable_gap: the mean gap between arrivals that could still be served in time (slack > cost(1)).
//     kEdf's "keep up" floor sizes batches for these only: a task that cannot make its deadline on
//     arrival (e.g. a robot already out of actions, asking again at once) no longer counts, so a backlog
//     of such tasks no longer keeps batches as large as the queue allows, each holding the stage while
//     the requests that could still make their deadlines arrived and missed them. When no servable task
//     arrives the gap keeps its last value (the budget below then has nothing recent to protect);
//   * blocking_budget: half the smallest slack among the last 32 arrivals, within the last 2 s, that at
//     least a batch of one could protect (slack > 2 x cost(1): such a task, arriving as a batch of one
//     starts, can wait for it and still be served in time). A task with less slack misses if it arrives
//     as any batch starts, so it no longer shrinks the budget below what any batch can meet.
//
//   ArrivalStats stats;
//   stats.Record(now, urgency - now, cost.Estimate(1));
//   in.arrival_gap = stats.servable_gap();
//
// Thread safety: none; BatchQueue guards it with its mutex.
#ifndef MIVLA_SERVER_BATCHING_ARRIVAL_STATS_H_
#define MIVLA_SERVER_BATCHING_ARRIVAL_STATS_H_

#include <array>
#include <cstddef>
#include <utility>

#include "absl/time/time.h"

namespace mivla::server {

class ArrivalStats {
 public:
  /// A task arrived at `now` with `slack` (infinite: no urgency) while a batch of one was estimated to
  /// cost `cost1`. Arrivals are recorded in time order.
  void Record(absl::Time now, absl::Duration slack, absl::Duration cost1);

  /// The last arrival plus the mean gap between arrivals; infinite before the second arrival.
  absl::Time next_arrival() const;
  /// The mean gap between servable arrivals; infinite before the second servable arrival.
  absl::Duration servable_gap() const;
  /// Half the smallest protectable slack of the recent arrivals (see above); infinite when there is none.
  absl::Duration blocking_budget(absl::Time now) const;

 private:
  struct Gap {
    absl::Time last = absl::InfinitePast();
    absl::Duration mean = absl::Seconds(-1);  // EWMA; < 0: fewer than two arrivals
    void Add(absl::Time now);
  };
  Gap all_;
  Gap servable_;
  std::array<std::pair<absl::Time, absl::Duration>, 32> recent_slack_;  // (arrival, slack), a ring
  size_t slack_count_ = 0;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_BATCHING_ARRIVAL_STATS_H_
