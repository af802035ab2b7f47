#include "server/batching/batch_planner.h"

#include <algorithm>

namespace mivla::server {

size_t SizeForDeadline(const BatchQueueOptions& options, const BatchCostModel& cost, size_t waiting,
                       absl::Time now, absl::Time earliest) {
  const size_t full = std::min(waiting, options.max_batch_size);
  if (full == 0) return 0;
  if (earliest == absl::InfiniteFuture()) return full;
  for (size_t b = full; b >= 1; --b) {
    if (now + cost.Estimate(b) <= earliest) return b;
  }
  return full;  // even one alone misses: serve as many as possible
}

size_t KeepUpSize(const BatchQueueOptions& options, const BatchCostModel& cost, absl::Duration arrival_gap) {
  if (arrival_gap == absl::InfiniteDuration()) return 1;
  for (size_t b = 1; b <= options.max_batch_size; ++b) {
    if (cost.Estimate(b) <= arrival_gap * static_cast<double>(b)) return b;
  }
  // None keeps up: the cheapest per task. On a busy CPU that need not be the largest (in one traced
  // overload a batch of 5 cost about 21 ms per task, one of 16 about 23 ms).
  const auto per_task = [&](size_t b) { return cost.Estimate(b) / static_cast<double>(b); };
  size_t cheapest = options.max_batch_size;
  for (size_t b = options.max_batch_size; b >= 1; --b) {
    if (per_task(b) < per_task(cheapest)) cheapest = b;
  }
  return cheapest;
}

BatchPlan PlanBatch(const BatchQueueOptions& options, const BatchCostModel& cost, const PlanInput& in) {
  BatchPlan plan;
  if (in.waiting == 0) return plan;
  const size_t full = std::min(in.waiting, options.max_batch_size);
  const absl::Time delay_due = in.oldest_enqueued + options.max_queue_delay;
  if (options.policy == BatchPolicy::kFifo) {
    if (in.draining || in.waiting >= options.max_batch_size || in.now >= delay_due) {
      plan.take = full;
    } else {
      plan.wake = delay_due;
    }
    return plan;
  }
  const bool any_feasible = in.infeasible < in.waiting;
  plan.skip = in.infeasible;
  const absl::Time earliest = any_feasible ? in.earliest_deadline : absl::InfiniteFuture();
  size_t sized = SizeForDeadline(options, cost, in.waiting, in.now, earliest);
  // The blocking budget guards requests that have not arrived yet; it never cuts a batch below the size
  // that keeps up with the arrivals (the deadline of a request that is here may).
  const size_t keep_up = std::min(sized, KeepUpSize(options, cost, in.arrival_gap));
  while (sized > keep_up && sized > 1 && cost.Estimate(sized) > in.blocking_budget) --sized;
  if (in.draining || in.waiting >= options.max_batch_size || in.waiting >= in.sources || !any_feasible) {
    // Full, draining, every producer's task is here, or everything waiting is lost already: no reason
    // to wait.
    plan.take = sized;
    return plan;
  }
  absl::Time join_by = delay_due;
  if (earliest != absl::InfiniteFuture()) {
    join_by = std::min(join_by, earliest - cost.Estimate(in.waiting + 1));
  }
  if (in.now >= join_by || in.next_arrival > join_by) {
    plan.take = sized;  // nobody can join in time: do not wait
  } else {
    plan.wake = join_by;
  }
  return plan;
}

}  // namespace mivla::server
