// Deadline-aware batching (issue 12 item 2) with made-up times: the cost model, PlanBatch under kFifo
// and kEdf (ordering, sizing against the cost model, the no-wait rule for a lone robot, drain), the
// EDF task list (order, drops anywhere in the list, urgency apart from the drop deadline) and a queue
// whose worker forms EDF batches from tasks scheduled while it was busy, and a live queue that does not
// hold a lone request. No test times anything (one waits 300 ms to see FIFO hold a request).
#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/batching/batch_cost_model.h"
#include "server/batching/batch_planner.h"
#include "server/batching/batch_queue.h"
#include "server/batching/task_list.h"

namespace mivla::server {
namespace {

struct EdfItem {
  int id;
  absl::Time drop;     // deadline: past it the item is dropped
  absl::Time urgent;   // EDF key
};

}  // namespace

template <>
struct BatchTaskTraits<EdfItem> {
  static absl::Time Deadline(const EdfItem& item) { return item.drop; }
  static absl::Time Urgency(const EdfItem& item) { return item.urgent; }
};

namespace {

using ::testing::ElementsAre;

const absl::Time kT0 = absl::UnixEpoch() + absl::Hours(10);  // the fake clock's "now"
absl::Time At(int ms) { return kT0 + absl::Milliseconds(ms); }

BatchQueueOptions Options(BatchPolicy policy, size_t max_batch = 16, int delay_ms = 2) {
  BatchQueueOptions o;
  o.policy = policy;
  o.max_batch_size = max_batch;
  o.max_queue_delay = absl::Milliseconds(delay_ms);
  return o;
}

// cost(b) = 10 ms + 5 ms x b, measured at sizes 1 and 16 only.
BatchCostModel LinearCost() {
  BatchCostModel cost(16);
  cost.Record(1, absl::Milliseconds(15));
  cost.Record(16, absl::Milliseconds(90));
  return cost;
}

TEST(BatchCostModelTest, EstimatesFromWhatWasMeasured) {
  BatchCostModel cost(16);
  EXPECT_EQ(cost.Estimate(4), absl::ZeroDuration()) << "nothing measured: no cost";
  cost.Record(4, absl::Milliseconds(40));
  EXPECT_TRUE(cost.Measured(4));
  EXPECT_FALSE(cost.Measured(8));
  EXPECT_EQ(cost.Estimate(8), absl::Milliseconds(80)) << "one point: proportional above it";
  EXPECT_EQ(cost.Estimate(2), absl::Milliseconds(40)) << "one point: its own cost below it";
  cost.Record(12, absl::Milliseconds(60));
  EXPECT_EQ(cost.Estimate(8), absl::Milliseconds(50)) << "linear between two points";
  EXPECT_EQ(cost.Estimate(16), absl::Milliseconds(70)) << "along the last two points beyond them";
  EXPECT_EQ(cost.Estimate(2), absl::Milliseconds(35)) << "along the first two points below them";
  EXPECT_EQ(cost.Estimate(100), cost.Estimate(16)) << "sizes clamp to max_batch_size";
  cost.Record(4, absl::Milliseconds(90));  // online update: 0.8 x 40 + 0.2 x 90
  EXPECT_EQ(cost.Estimate(4), absl::Milliseconds(50));
}

TEST(BatchCostModelTest, NeverEstimatesAFallingCostBeyondTheLargestMeasuredSize) {
  BatchCostModel cost(16);
  cost.Record(2, absl::Milliseconds(30));
  cost.Record(4, absl::Milliseconds(20));  // noise: a larger batch measured faster
  EXPECT_EQ(cost.Estimate(10), absl::Milliseconds(20));
}

TEST(PlanBatchTest, FifoWaitsForTheDelayOrAFullBatch) {
  const BatchCostModel cost = LinearCost();
  PlanInput in;
  in.now = At(1);
  in.waiting = 3;
  in.oldest_enqueued = At(0);
  in.earliest_deadline = At(5);  // ignored by FIFO
  BatchPlan p = PlanBatch(Options(BatchPolicy::kFifo, 4, 2), cost, in);
  EXPECT_EQ(p.take, 0u);
  EXPECT_EQ(p.wake, At(2));
  in.now = At(2);
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kFifo, 4, 2), cost, in).take, 3u);
  in.now = At(1);
  in.waiting = 9;
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kFifo, 4, 2), cost, in).take, 4u);
}

TEST(PlanBatchTest, EdfSizesTheBatchSoTheEarliestDeadlineIsMet) {
  const BatchCostModel cost = LinearCost();
  PlanInput in;
  in.now = At(0);
  in.waiting = 20;
  in.oldest_enqueued = At(-5);
  in.earliest_deadline = At(40);  // 10 + 5 b <= 40: b = 6
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf), cost, in).take, 6u);
  in.earliest_deadline = At(1000);
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf), cost, in).take, 16u) << "loose deadline: a full batch";
  in.earliest_deadline = At(12);  // even one alone takes 15 ms: lost anyway, serve as many as possible
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf), cost, in).take, 16u);
  in.earliest_deadline = absl::InfiniteFuture();
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf), cost, in).take, 16u);
  EXPECT_EQ(SizeForDeadline(Options(BatchPolicy::kEdf), cost, 3, At(0), At(40)), 3u) << "only 3 wait";
}

TEST(PlanBatchTest, EdfWithNoCostMeasuredTakesWhatWaits) {
  PlanInput in;
  in.now = At(0);
  in.waiting = 5;
  in.oldest_enqueued = At(0);
  in.earliest_deadline = At(1);
  in.next_arrival = absl::InfiniteFuture();
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf), BatchCostModel(16), in).take, 5u);
}

// One request waiting since At(0), due At(500), the next arrival expected at `next_arrival`.
PlanInput LoneRequest(absl::Time next_arrival) {
  PlanInput in;
  in.now = At(0);
  in.waiting = 1;
  in.oldest_enqueued = At(0);
  in.earliest_deadline = At(500);
  in.next_arrival = next_arrival;
  return in;
}

TEST(PlanBatchTest, EdfNeverWaitsWhenNobodyCanJoinInTime) {
  const BatchCostModel cost = LinearCost();
  // One robot alone: its Acts come every 100 ms; the queue would wait up to 50 ms for company.
  PlanInput in = LoneRequest(At(100));
  BatchPlan p = PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in);
  EXPECT_EQ(p.take, 1u) << "a lone request goes at once";
  // FIFO with the same delay holds it 50 ms.
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kFifo, 16, 50), cost, in).take, 0u);
  // Nothing known about arrivals yet (first request ever): no wait either.
  in.next_arrival = absl::InfiniteFuture();
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in).take, 1u);
}

TEST(PlanBatchTest, EdfWaitsOnlyWhileAnotherRequestCanJoinInTime) {
  const BatchCostModel cost = LinearCost();
  PlanInput in = LoneRequest(At(3));  // another robot's Act is due in 3 ms
  BatchPlan p = PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in);
  EXPECT_EQ(p.take, 0u);
  EXPECT_EQ(p.wake, At(50)) << "join-by: the queue delay";
  // A tight deadline shortens the wait: a batch of 2 costs 20 ms, so it must start by 30 - 20 = 10 ms.
  in.earliest_deadline = At(30);
  p = PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in);
  EXPECT_EQ(p.take, 0u);
  EXPECT_EQ(p.wake, At(10));
  // The expected arrival falls after the join-by time: go now.
  in.next_arrival = At(11);
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in).take, 1u);
  // Join-by reached (fake clock moved on): go.
  in.next_arrival = At(3);
  in.now = At(10);
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in).take, 1u);
  // A robot already out of actions (deadline in the past): at once.
  in.now = At(0);
  in.earliest_deadline = At(-20);
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in).take, 1u);
}

TEST(PlanBatchTest, EdfDoesNotWaitWhenEveryProducersTaskIsHere) {
  const BatchCostModel cost = LinearCost();
  // One robot alone on a fast model: the statistics expect its next request within the delay, but its
  // only session's task is the one waiting, so nothing can join.
  PlanInput in = LoneRequest(At(1));
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in).take, 0u) << "unknown sources: it waits";
  in.sources = 1;
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in).take, 1u) << "the only producer's task is here";
  // Two sessions, one task here: the other robot may still join.
  in.sources = 2;
  BatchPlan p = PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in);
  EXPECT_EQ(p.take, 0u);
  EXPECT_EQ(p.wake, At(50));
  in.waiting = 2;
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in).take, 2u) << "both robots' tasks are here";
  // FIFO keeps its delay whatever the sources (the policy as before issue 12).
  in.waiting = 1;
  in.sources = 1;
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kFifo, 16, 50), cost, in).take, 0u);
}

TEST(PlanBatchTest, EdfServesRequestsThatCanStillMakeItBeforeLostOnes) {
  const BatchCostModel cost = LinearCost();
  PlanInput in;
  in.now = At(0);
  in.waiting = 10;
  in.oldest_enqueued = At(-5);
  in.infeasible = 4;              // four robots already out of actions at the front
  in.earliest_deadline = At(40);  // the first feasible one: 10 + 5 b <= 40, b = 6
  BatchPlan p = PlanBatch(Options(BatchPolicy::kEdf), cost, in);
  EXPECT_EQ(p.skip, 4u);
  EXPECT_EQ(p.take, 6u);
  // Only lost tasks wait: a full batch of them at once, from the front, whatever is expected next.
  in.infeasible = 10;
  in.waiting = 10;
  in.next_arrival = At(1);
  p = PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in);
  EXPECT_EQ(p.skip, 10u) << "all lost: taken longest-waiting first (TaskList::TakeFrom)";
  EXPECT_EQ(p.take, 10u);
}

TEST(PlanBatchTest, EdfKeepsBatchesShortEnoughForUrgentArrivals) {
  const BatchCostModel cost = LinearCost();
  PlanInput in;
  in.now = At(0);
  in.waiting = 20;
  in.oldest_enqueued = At(-5);
  in.earliest_deadline = At(1000);
  in.blocking_budget = absl::Milliseconds(60);  // 10 + 5 b <= 60: b = 10
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf), cost, in).take, 10u);
  in.blocking_budget = absl::Milliseconds(1);  // below any batch: one at a time, never none
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf), cost, in).take, 1u);
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kFifo), cost, in).take, 16u) << "FIFO ignores it";
}

TEST(PlanBatchTest, EdfBlockingBudgetNeverShrinksBatchesBelowWhatKeepsUpWithArrivals) {
  const BatchCostModel cost = LinearCost();  // cost(b) = 10 + 5 b ms
  const BatchQueueOptions o = Options(BatchPolicy::kEdf);
  EXPECT_EQ(KeepUpSize(o, cost, absl::InfiniteDuration()), 1u);
  EXPECT_EQ(KeepUpSize(o, cost, absl::Milliseconds(15)), 1u);   // 15 <= 15
  EXPECT_EQ(KeepUpSize(o, cost, absl::Milliseconds(10)), 2u);   // 20 <= 20
  EXPECT_EQ(KeepUpSize(o, cost, absl::Milliseconds(7)), 5u);    // 35 <= 35
  EXPECT_EQ(KeepUpSize(o, cost, absl::Milliseconds(5)), 16u);   // 10 + 5 b > 5 b for every b: the largest
  EXPECT_EQ(KeepUpSize(o, BatchCostModel(16), absl::Milliseconds(1)), 1u) << "nothing measured";

  PlanInput in;
  in.now = At(0);
  in.waiting = 20;
  in.oldest_enqueued = At(-5);
  in.earliest_deadline = At(1000);
  in.blocking_budget = absl::Milliseconds(1);  // alone, one at a time
  in.arrival_gap = absl::Milliseconds(100);    // light load: the budget decides
  EXPECT_EQ(PlanBatch(o, cost, in).take, 1u);
  in.arrival_gap = absl::Milliseconds(7);      // a task every 7 ms: batches of 1 would fall behind
  EXPECT_EQ(PlanBatch(o, cost, in).take, 5u);
  in.arrival_gap = absl::Milliseconds(5);      // overload: the largest batch
  EXPECT_EQ(PlanBatch(o, cost, in).take, 16u);
  in.blocking_budget = absl::InfiniteDuration();
  in.earliest_deadline = At(30);               // 10 + 5 b <= 30: a request that is here wins, b = 4
  EXPECT_EQ(PlanBatch(o, cost, in).take, 4u);
  in.blocking_budget = absl::Milliseconds(1);  // the budget does not cut below that either
  EXPECT_EQ(PlanBatch(o, cost, in).take, 4u);
  in.waiting = 3;                              // never more than waits
  in.oldest_enqueued = At(-50);
  EXPECT_EQ(PlanBatch(o, cost, in).take, 3u);
}

TEST(PlanBatchTest, EdfOverloadKeepsUpWithTheCheapestBatchPerTaskNotTheLargest) {
  // A busy CPU (measured at twice capacity): 70 ms alone, 105 ms for 5 (21 ms a task), 371 ms for 16
  // (23 ms a task).
  BatchCostModel cost(16);
  cost.Record(1, absl::Milliseconds(70));
  cost.Record(5, absl::Milliseconds(105));
  cost.Record(16, absl::Milliseconds(371));
  const BatchQueueOptions o = Options(BatchPolicy::kEdf);
  EXPECT_EQ(KeepUpSize(o, cost, absl::Milliseconds(5)), 5u) << "no size keeps up: the cheapest per task";
  EXPECT_EQ(KeepUpSize(o, cost, absl::Milliseconds(30)), 3u) << "one keeps up: the smallest that does";
  PlanInput in;
  in.now = At(0);
  in.waiting = 20;
  in.infeasible = 20;  // robots out of actions: nothing to protect here...
  in.oldest_enqueued = At(-50);
  in.blocking_budget = absl::Milliseconds(1);  // ...but arrivals that could make their deadlines
  in.arrival_gap = absl::Milliseconds(5);
  EXPECT_EQ(PlanBatch(o, cost, in).take, 5u);
  in.arrival_gap = absl::InfiniteDuration();  // none of those arrive: nothing to keep up with
  EXPECT_EQ(PlanBatch(o, cost, in).take, 1u);
  in.blocking_budget = absl::InfiniteDuration();  // nor anything to protect: the largest
  EXPECT_EQ(PlanBatch(o, cost, in).take, 16u);
}

TEST(PlanBatchTest, DrainTakesAtOnceAndEmptyQueueSleeps) {
  const BatchCostModel cost = LinearCost();
  PlanInput in;
  in.now = At(0);
  in.waiting = 2;
  in.oldest_enqueued = At(0);
  in.next_arrival = At(1);
  in.draining = true;
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kEdf, 16, 50), cost, in).take, 2u);
  EXPECT_EQ(PlanBatch(Options(BatchPolicy::kFifo, 16, 50), cost, in).take, 2u);
  in.waiting = 0;
  BatchPlan p = PlanBatch(Options(BatchPolicy::kEdf), cost, in);
  EXPECT_EQ(p.take, 0u);
  EXPECT_EQ(p.wake, absl::InfiniteFuture());
}

TEST(EdfTaskListTest, OrdersByUrgencyDropsByDeadlineAnywhere) {
  TaskList<EdfItem> list(/*by_urgency=*/true);
  const absl::Time never = absl::InfiniteFuture();
  list.Push(std::make_unique<EdfItem>(EdfItem{0, never, At(300)}), At(0));
  list.Push(std::make_unique<EdfItem>(EdfItem{1, At(50), At(50)}), At(1));
  list.Push(std::make_unique<EdfItem>(EdfItem{2, never, At(-10)}), At(2));  // out of actions already: first, never dropped
  list.Push(std::make_unique<EdfItem>(EdfItem{3, never, At(50)}), At(3));   // tie with 1: arrival order
  list.Push(std::make_unique<EdfItem>(EdfItem{4, At(20), At(200)}), At(4));  // dropped although not urgent
  EXPECT_EQ(list.front_urgency(), At(-10));
  EXPECT_EQ(list.oldest_enqueue_time(), At(0));
  std::vector<std::unique_ptr<EdfItem>> expired = list.TakeExpired(At(60));
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0]->id, 1);
  EXPECT_EQ(expired[1]->id, 4);
  TaskList<EdfItem>::Batch b = list.TakeBatch(8, At(60));
  std::vector<int> ids;
  for (const auto& t : b.tasks) ids.push_back(t->id);
  EXPECT_THAT(ids, ElementsAre(2, 3, 0));
  EXPECT_TRUE(b.expired.empty());
}

TEST(EdfTaskListTest, TakeFromServesFeasibleTasksFirstThenFillsFromTheFront) {
  TaskList<EdfItem> list(/*by_urgency=*/true);
  const absl::Time never = absl::InfiniteFuture();
  for (int i = 0; i < 6; ++i) list.Push(std::make_unique<EdfItem>(EdfItem{i, never, At(-30 + 10 * i)}), At(i));
  EXPECT_EQ(list.CountUrgentBefore(At(0)), 3u) << "urgencies -30, -20, -10 lie before now";
  EXPECT_EQ(list.urgency_at(3), At(0));
  TaskList<EdfItem>::Batch b = list.TakeFrom(3, 5, At(10));
  std::vector<int> ids;
  for (const auto& t : b.tasks) ids.push_back(t->id);
  EXPECT_THAT(ids, ElementsAre(3, 4, 5, 0, 1));
  ASSERT_EQ(b.waits.size(), 5u);
  EXPECT_EQ(b.waits[0], absl::Milliseconds(7));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list.front_urgency(), At(-10));

  // Lost tasks share the stage: longest-waiting first, not earliest deadline (which would starve the rest).
  TaskList<EdfItem> lost(/*by_urgency=*/true);
  lost.Push(std::make_unique<EdfItem>(EdfItem{0, never, At(-30)}), At(5));
  lost.Push(std::make_unique<EdfItem>(EdfItem{1, never, At(-20)}), At(1));
  lost.Push(std::make_unique<EdfItem>(EdfItem{2, never, At(-10)}), At(3));
  b = lost.TakeFrom(3, 2, At(10));
  ids.clear();
  for (const auto& t : b.tasks) ids.push_back(t->id);
  EXPECT_THAT(ids, ElementsAre(1, 2));
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost.front_urgency(), At(-30));
}

struct QTask {
  int id;
  absl::Time deadline_;
  absl::Time deadline() const { return deadline_; }
};

TEST(EdfBatchQueueTest, WorkerFormsEarliestDeadlineFirstBatches) {
  absl::Notification first_started, release;
  absl::Mutex mu;
  std::vector<std::vector<int>> batches;
  BatchQueueOptions o = Options(BatchPolicy::kEdf, 2, 1);
  o.name = "decode";
  auto queue = BatchQueue<QTask>::Create(
      o,
      [&](std::vector<std::unique_ptr<QTask>> batch) {
        std::vector<int> ids;
        for (const auto& t : batch) ids.push_back(t->id);
        {
          absl::MutexLock lock(&mu);
          batches.push_back(ids);
        }
        if (ids == std::vector<int>{100}) {
          first_started.Notify();
          release.WaitForNotification();
        }
      },
      [](std::unique_ptr<QTask>, absl::Status) {});
  ASSERT_TRUE(queue.ok()) << queue.status();
  const absl::Time now = absl::Now();
  auto first = std::make_unique<QTask>(QTask{100, now + absl::Hours(1)});
  ASSERT_TRUE((*queue)->Schedule(first).ok());
  ASSERT_TRUE(first_started.WaitForNotificationWithTimeout(absl::Seconds(30)));
  // While the worker is busy, five tasks arrive out of deadline order.
  const int offsets_s[] = {50, 10, 30, 20, 40};
  for (int i = 0; i < 5; ++i) {
    auto t = std::make_unique<QTask>(QTask{i, now + absl::Seconds(600 + offsets_s[i])});
    ASSERT_TRUE((*queue)->Schedule(t).ok());
  }
  release.Notify();
  (*queue)->Shutdown(absl::Seconds(30));
  absl::MutexLock lock(&mu);
  EXPECT_THAT(batches, ElementsAre(ElementsAre(100), ElementsAre(1, 3), ElementsAre(2, 4), ElementsAre(0)));
}

// The no-wait rule on a live queue: a lone request is not held for a batch that nobody can join, even
// with a minute of allowed queue delay; FIFO with the same options holds it for that minute (until the
// drain at shutdown takes it).
TEST(EdfBatchQueueTest, LoneRequestIsNotHeldForAFullerBatch) {
  for (BatchPolicy policy : {BatchPolicy::kEdf, BatchPolicy::kFifo}) {
    absl::Notification processed;
    BatchQueueOptions o = Options(policy, 16, 60'000);
    o.name = "decode";
    auto queue = BatchQueue<QTask>::Create(
        o, [&](std::vector<std::unique_ptr<QTask>>) { processed.Notify(); },
        [](std::unique_ptr<QTask>, absl::Status) {});
    ASSERT_TRUE(queue.ok()) << queue.status();
    auto lone = std::make_unique<QTask>(QTask{1, absl::Now() + absl::Hours(1)});
    ASSERT_TRUE((*queue)->Schedule(lone).ok());
    if (policy == BatchPolicy::kEdf) {
      EXPECT_TRUE(processed.WaitForNotificationWithTimeout(absl::Seconds(20))) << "EDF held a lone request";
    } else {
      EXPECT_FALSE(processed.WaitForNotificationWithTimeout(absl::Milliseconds(300))) << "FIFO waits its delay";
    }
    (*queue)->Shutdown(absl::Seconds(30));
    EXPECT_TRUE(processed.HasBeenNotified());
  }
}

TEST(EdfBatchQueueTest, ATaskFromEverySourceGoesAtOnceThoughMoreAreExpected) {
  // Tasks one after another, each scheduled as soon as the previous one was processed (a lone robot on
  // a model that takes no time), teach the queue a gap far shorter than its minute-long delay: it then
  // expects the next task in time to join and holds each for it, unless it knows that the one waiting is
  // the only producer's.
  for (size_t sources : {size_t{1}, size_t{2}}) {
    BatchQueueOptions o = Options(BatchPolicy::kEdf, 16, 60'000);
    o.name = "decode";
    o.sources = [sources] { return sources; };
    absl::Mutex mu;
    int processed = 0;
    auto queue = BatchQueue<QTask>::Create(
        o,
        [&](std::vector<std::unique_ptr<QTask>> batch) {
          absl::MutexLock lock(&mu);
          processed += static_cast<int>(batch.size());
        },
        [](std::unique_ptr<QTask>, absl::Status) {});
    ASSERT_TRUE(queue.ok()) << queue.status();
    bool held = false;
    for (int i = 0; i < 6 && !held; ++i) {
      auto task = std::make_unique<QTask>(QTask{i, absl::Now() + absl::Hours(1)});
      ASSERT_TRUE((*queue)->Schedule(task).ok());
      struct AtLeast {
        const int* n;
        int want;
        bool operator()() const { return *n >= want; }
      } done_so_far{&processed, i + 1};
      absl::MutexLock lock(&mu);
      held = !mu.AwaitWithTimeout(absl::Condition(&done_so_far), absl::Seconds(sources == 1 ? 20 : 1));
    }
    if (sources == 1) {
      EXPECT_FALSE(held) << "a task was held although its producer is the only one";
    } else {
      EXPECT_TRUE(held) << "with two sources the queue never waited for the expected second task";
    }
    (*queue)->Shutdown(absl::Seconds(30));
  }
}

}  // namespace
}  // namespace mivla::server
