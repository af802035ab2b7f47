// File: batch_planner.h
// PlanBatch: the decision BatchQueue's worker makes each time it looks at the queue, as a pure function
// of the queue's state and a clock reading (so it is tested with made-up times, no sleeping).
//
// kFifo (as before issue 12): take min(waiting, max_batch_size) tasks from the front once
//   max_batch_size wait or the oldest has waited max_queue_delay; otherwise wake when it will have.
// kEdf (tasks ordered by deadline, earliest first):
//   * order: earliest deadline first among the tasks that can still make theirs; the `infeasible` ones at
//     the front (deadline before now + cost(1): a robot already out of actions, or one not even a batch
//     of one would serve in time) are lost anyway and come after them, earliest first, so a backlog of
//     lost requests never makes the others miss too (EDF's domino effect under overload). Lost tasks are
//     taken longest-waiting first (not by deadline: the earliest would always win and starve the rest).
//   * size: the largest b <= min(waiting, max_batch_size) whose estimated cost (BatchCostModel) still
//     ends by the earliest feasible deadline: now + cost(b) <= earliest. Lost tasks fill what the feasible
//     ones leave of b; with no feasible task the batch is as large as it can be.
//   * blocking: a batch runs to its end, so urgent tasks arriving meanwhile wait for it. A batch of more
//     than one task never costs more than the blocking budget: half the smallest slack (urgency -
//     arrival) of the recent arrivals that a batch could protect (ArrivalStats, arrival_stats.h).
//   * keep up: the blocking budget (a guard for tasks that have not arrived yet) never shrinks a batch
//     below the smallest size b that serves tasks as fast as they arrive (cost(b) <= b x the mean gap
//     between arrivals that could be served in time, ArrivalStats::servable_gap; when no size does, the
//     size with the least cost per task): smaller batches cost more per task, and under overload
//     budget-sized batches lowered the stage's throughput just when it was needed (the soak benchmark's
//     robots: 23.6 -> 11.5 chunks/s and p99 x 5.4 with a hostile client beside). Tasks that cannot make
//     their deadlines on arrival do not count: with them, robots out of actions asking again at once
//     kept batches as large as the queue allowed at twice capacity, each holding the stage while the
//     25 Hz robots' requests arrived and missed (EDF missed as often as FIFO, 75 %). The earliest
//     feasible deadline, a task that is here, still sizes the batch below that.
//   * wait: a batch that is not full waits for another task only while one is expected in time to join
//     it: the join-by time is min(oldest enqueue + max_queue_delay, earliest - cost(waiting + 1)) and
//     the next task is expected at `next_arrival` (the queue's mean inter-arrival time after the last
//     one). When the next task is not expected by then (e.g. one robot alone on a slow model) the batch
//     goes at once, so a lone request sees the bare model's time. Nor does it wait when as many tasks
//     wait as there are `sources` (the live sessions): every robot is here already, whatever the
//     statistics expect. (A lone robot on a model faster than the batching delay asks again within it,
//     so its mean gap alone would keep each stage waiting for a next arrival that cannot come before
//     it is answered: about 0.35 ms per stage on a zero-latency runtime, mivla-bench-server's
//     server_overhead row.)
//   * drain (shutdown): take at once.
// Thread safety: pure function; the cost model is read only.
#ifndef MIVLA_SERVER_BATCHING_BATCH_PLANNER_H_
#define MIVLA_SERVER_BATCHING_BATCH_PLANNER_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "server/batching/batch_cost_model.h"
#include "server/batching/batch_queue_options.h"

namespace mivla::server {

struct PlanInput {
  absl::Time now;
  size_t waiting = 0;                                  // live tasks waiting (expired ones already removed)
  absl::Time earliest_deadline = absl::InfiniteFuture();  // of the first feasible task (kEdf)
  size_t infeasible = 0;                               // kEdf: lost tasks at the front of the list
  absl::Time oldest_enqueued;                          // enqueue time of the task that has waited longest
  absl::Time next_arrival = absl::InfiniteFuture();    // when the next task is expected; unknown: infinite
  bool draining = false;                               // shutdown began: never wait
  absl::Duration blocking_budget = absl::InfiniteDuration();  // kEdf: longest a batch should hold the stage
  absl::Duration arrival_gap = absl::InfiniteDuration();      // kEdf: mean gap between servable arrivals; unknown: inf
  size_t sources = SIZE_MAX;  // kEdf: producers that could have a task here (BatchQueueOptions::sources); unknown: max
};

struct BatchPlan {
  size_t take = 0;                       // > 0: take this many now (kEdf: from index `skip` on, then the front)
  size_t skip = 0;                       // kEdf: the infeasible tasks at the front, taken last
  absl::Time wake = absl::InfiniteFuture();  // take == 0: look again then (or when a task arrives)
};

BatchPlan PlanBatch(const BatchQueueOptions& options, const BatchCostModel& cost, const PlanInput& in);

/// kEdf's floor (see "keep up" above): the smallest batch size whose cost is covered by the arrivals it
/// serves at one per `arrival_gap`; when no size is, the one with the least estimated cost per task (the
/// largest of equals); 1 when nothing is measured yet.
size_t KeepUpSize(const BatchQueueOptions& options, const BatchCostModel& cost, absl::Duration arrival_gap);

/// kEdf's batch size (see above) for `waiting` tasks whose earliest deadline is `earliest`.
size_t SizeForDeadline(const BatchQueueOptions& options, const BatchCostModel& cost, size_t waiting,
                       absl::Time now, absl::Time earliest);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_BATCHING_BATCH_PLANNER_H_
