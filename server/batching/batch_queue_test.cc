#include "server/batching/batch_queue.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(10);  // generous bound for "eventually"

struct TestTask {
  explicit TestTask(int id, absl::Time deadline = absl::InfiniteFuture())
      : id(id), deadline_(deadline) {}
  absl::Time deadline() const { return deadline_; }
  int id;
  absl::Time deadline_;
};
using Queue = BatchQueue<TestTask>;

// Records what the callbacks saw; Wait*() block on the mutex condition, never sleep.
class Recorder {
 public:
  // Optional gate: each batch blocks in Process() until Release().
  void Gate() { gated_ = true; }
  void Release() { release_.Notify(); }

  void Process(std::vector<std::unique_ptr<TestTask>> batch) {
    {
      absl::MutexLock lock(&mu_);
      ++batches_started_;
      std::vector<int> ids;
      for (const auto& task : batch) ids.push_back(task->id);
      batches_.push_back(ids);
      threads_.push_back(std::this_thread::get_id());
    }
    if (gated_) release_.WaitForNotification();
    absl::MutexLock lock(&mu_);
    processed_ += batch.size();
  }
  void Drop(std::unique_ptr<TestTask> task, absl::Status reason) {
    absl::MutexLock lock(&mu_);
    dropped_.push_back({task->id, reason});
    threads_.push_back(std::this_thread::get_id());
  }
  Queue::ProcessBatchFn process_fn() {
    return [this](std::vector<std::unique_ptr<TestTask>> b) { Process(std::move(b)); };
  }
  Queue::DropFn drop_fn() {
    return [this](std::unique_ptr<TestTask> t, absl::Status s) { Drop(std::move(t), s); };
  }

  bool WaitProcessed(size_t n) {
    return WaitFor([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return processed_ >= n; });
  }
  bool WaitBatchesStarted(size_t n) {
    return WaitFor([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return batches_started_ >= n; });
  }
  bool WaitDropped(size_t n) {
    return WaitFor([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return dropped_.size() >= n; });
  }

  std::vector<std::vector<int>> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  std::vector<std::pair<int, absl::Status>> dropped() {
    absl::MutexLock lock(&mu_);
    return dropped_;
  }
  std::vector<std::thread::id> threads() {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  template <typename Pred>
  bool WaitFor(Pred pred) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&pred), kWait);
  }

  std::atomic<bool> gated_{false};
  absl::Notification release_;
  absl::Mutex mu_;
  size_t processed_ ABSL_GUARDED_BY(mu_) = 0;
  size_t batches_started_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::vector<int>> batches_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<int, absl::Status>> dropped_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

class BatchQueueTest : public ::testing::TestWithParam<int> {
 protected:
  Queue::Options MakeOptions(size_t max_batch, absl::Duration delay, size_t depth) {
    Queue::Options options;
    options.max_batch_size = max_batch;
    options.max_queue_delay = delay;
    options.max_queue_depth = depth;
    options.num_workers = GetParam();
    options.name = "encode";
    return options;
  }
  std::unique_ptr<Queue> MakeQueue(Queue::Options options) {
    auto queue = Queue::Create(std::move(options), recorder_.process_fn(), recorder_.drop_fn());
    EXPECT_TRUE(queue.ok()) << queue.status();
    return queue.ok() ? std::move(queue).value() : nullptr;
  }
  absl::Status Schedule(Queue& queue, int id, absl::Time deadline = absl::InfiniteFuture()) {
    auto task = std::make_unique<TestTask>(id, deadline);
    absl::Status status = queue.Schedule(task);
    EXPECT_EQ(status.ok(), task == nullptr) << "ownership: queue takes the task only on success";
    return status;
  }

  Recorder recorder_;
};

TEST_P(BatchQueueTest, BatchesNeverExceedMaxBatchSize) {
  auto queue = MakeQueue(MakeOptions(4, absl::Milliseconds(2), 1000));
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(Schedule(*queue, i).ok());
  ASSERT_TRUE(recorder_.WaitProcessed(200));
  for (const auto& batch : recorder_.batches()) {
    EXPECT_GE(batch.size(), 1u);
    EXPECT_LE(batch.size(), 4u);
  }
}

TEST_P(BatchQueueTest, FullBatchIsDispatchedWithoutWaitingForTheDelay) {
  auto queue = MakeQueue(MakeOptions(4, absl::Seconds(60), 100));
  const absl::Time start = absl::Now();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Schedule(*queue, i).ok());
  ASSERT_TRUE(recorder_.WaitProcessed(4));
  EXPECT_LT(absl::Now() - start, kWait);
  EXPECT_THAT(recorder_.batches(), ::testing::ElementsAre(::testing::ElementsAre(0, 1, 2, 3)));
}

TEST_P(BatchQueueTest, LoneTaskIsDispatchedAfterMaxQueueDelay) {
  const absl::Duration delay = absl::Milliseconds(100);
  auto queue = MakeQueue(MakeOptions(8, delay, 100));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Schedule(*queue, 7).ok());
  ASSERT_TRUE(recorder_.WaitProcessed(1));
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_GE(elapsed, delay - absl::Milliseconds(5));  // clock granularity only
  EXPECT_LT(elapsed, delay + absl::Seconds(3));       // loaded 2-core machine
  EXPECT_THAT(recorder_.batches(), ::testing::ElementsAre(::testing::ElementsAre(7)));
}

TEST_P(BatchQueueTest, KeepsFifoOrder) {
  auto queue = MakeQueue(MakeOptions(5, absl::Milliseconds(1), 1000));
  constexpr int kTasks = 300;
  for (int i = 0; i < kTasks; ++i) ASSERT_TRUE(Schedule(*queue, i).ok());
  ASSERT_TRUE(recorder_.WaitProcessed(kTasks));
  std::vector<int> all;
  for (const auto& batch : recorder_.batches()) {
    // Each batch is a contiguous run from the front of the queue.
    for (size_t i = 1; i < batch.size(); ++i) EXPECT_EQ(batch[i], batch[i - 1] + 1);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  // One worker processes batches in queue order; two may finish them out of order.
  if (GetParam() > 1) std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(all[i], i);
}

TEST_P(BatchQueueTest, FullQueueAnswersResourceExhaustedAndCallerKeepsTask) {
  recorder_.Gate();
  const int workers = GetParam();
  auto queue = MakeQueue(MakeOptions(1, absl::ZeroDuration(), 2));
  for (int i = 0; i < workers; ++i) {  // occupy every worker
    ASSERT_TRUE(Schedule(*queue, i).ok());
    ASSERT_TRUE(recorder_.WaitBatchesStarted(i + 1));
  }
  ASSERT_TRUE(Schedule(*queue, 100).ok());
  ASSERT_TRUE(Schedule(*queue, 101).ok());
  EXPECT_EQ(queue->depth(), 2u);
  auto task = std::make_unique<TestTask>(102);
  absl::Status status = queue->Schedule(task);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("encode queue full (depth 2); retry after ~"));
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->id, 102);
  recorder_.Release();
  ASSERT_TRUE(recorder_.WaitProcessed(workers + 2));
  EXPECT_TRUE(Schedule(*queue, 103).ok());  // serves normally afterwards
  ASSERT_TRUE(recorder_.WaitProcessed(workers + 3));
}

TEST_P(BatchQueueTest, ExpiredTasksGoToOnDroppedAndAreNeverComputed) {
  auto queue = MakeQueue(MakeOptions(8, absl::Milliseconds(50), 100));
  ASSERT_TRUE(Schedule(*queue, 1, absl::Now() - absl::Seconds(1)).ok());       // already expired
  ASSERT_TRUE(Schedule(*queue, 2).ok());                                       // live
  ASSERT_TRUE(Schedule(*queue, 3, absl::Now() + absl::Milliseconds(5)).ok());  // expires queued
  ASSERT_TRUE(recorder_.WaitProcessed(1));
  ASSERT_TRUE(recorder_.WaitDropped(2));
  EXPECT_THAT(recorder_.batches(), ::testing::ElementsAre(::testing::ElementsAre(2)));
  auto dropped = recorder_.dropped();
  ASSERT_EQ(dropped.size(), 2u);
  EXPECT_EQ(dropped[0].first, 1);
  EXPECT_EQ(dropped[1].first, 3);
  for (const auto& [id, reason] : dropped) {
    EXPECT_EQ(reason.code(), absl::StatusCode::kDeadlineExceeded) << id;
  }
}

TEST_P(BatchQueueTest, AllExpiredBatchNeverCallsProcess) {
  auto queue = MakeQueue(MakeOptions(4, absl::ZeroDuration(), 100));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Schedule(*queue, i, absl::InfinitePast()).ok());
  ASSERT_TRUE(recorder_.WaitDropped(4));
  queue->Shutdown(kWait);
  EXPECT_TRUE(recorder_.batches().empty());
}

TEST_P(BatchQueueTest, CallbacksRunOnWorkerThreads) {
  auto queue = MakeQueue(MakeOptions(2, absl::ZeroDuration(), 100));
  ASSERT_TRUE(Schedule(*queue, 1).ok());
  ASSERT_TRUE(Schedule(*queue, 2, absl::InfinitePast()).ok());
  ASSERT_TRUE(recorder_.WaitProcessed(1));
  ASSERT_TRUE(recorder_.WaitDropped(1));
  for (std::thread::id id : recorder_.threads()) EXPECT_NE(id, std::this_thread::get_id());
}

TEST_P(BatchQueueTest, ShutdownDrainsQueuedTasksThenRejects) {
  // The delay would hold these partial batches for a minute; draining takes them at once.
  auto queue = MakeQueue(MakeOptions(2, absl::Seconds(60), 100));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Schedule(*queue, i).ok());
  const absl::Time start = absl::Now();
  queue->Shutdown(kWait);
  EXPECT_LT(absl::Now() - start, kWait);
  EXPECT_TRUE(recorder_.WaitProcessed(3));
  EXPECT_TRUE(recorder_.dropped().empty());
  EXPECT_EQ(Schedule(*queue, 9).code(), absl::StatusCode::kUnavailable);
  queue->Shutdown(kWait);  // idempotent
}

TEST_P(BatchQueueTest, ShutdownDropsWhatTheDrainDeadlineLeaves) {
  recorder_.Gate();
  const int workers = GetParam();
  auto queue = MakeQueue(MakeOptions(1, absl::ZeroDuration(), 100));
  for (int i = 0; i < workers; ++i) {
    ASSERT_TRUE(Schedule(*queue, i).ok());
    ASSERT_TRUE(recorder_.WaitBatchesStarted(i + 1));
  }
  for (int i = 10; i < 13; ++i) ASSERT_TRUE(Schedule(*queue, i).ok());
  std::thread stopper([&] { queue->Shutdown(absl::Milliseconds(20)); });
  ASSERT_TRUE(recorder_.WaitDropped(3));  // dropped before the busy workers are joined
  recorder_.Release();
  stopper.join();
  auto dropped = recorder_.dropped();
  ASSERT_EQ(dropped.size(), 3u);
  for (size_t i = 0; i < dropped.size(); ++i) {
    EXPECT_EQ(dropped[i].first, static_cast<int>(10 + i));
    EXPECT_EQ(dropped[i].second.code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(recorder_.batches().size(), static_cast<size_t>(workers));
}

TEST_P(BatchQueueTest, DestructorDropsWaitingTasks) {
  {
    auto queue = MakeQueue(MakeOptions(8, absl::Seconds(60), 100));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(Schedule(*queue, i).ok());
  }
  auto batches = recorder_.batches();
  size_t processed = 0;
  for (const auto& batch : batches) processed += batch.size();
  EXPECT_EQ(processed + recorder_.dropped().size(), 3u);  // each task answered exactly once
}

TEST_P(BatchQueueTest, ManyProducersEveryTaskProcessedExactlyOnce) {
  constexpr int kProducers = 8;
  constexpr int kPerProducer = 1000;
  constexpr int kTotal = kProducers * kPerProducer;
  std::vector<std::atomic<int>> seen(kTotal);
  std::atomic<int> done{0};
  absl::Notification all_done;
  Queue::Options options = MakeOptions(16, absl::Microseconds(200), 256);
  auto queue_or = Queue::Create(
      options,
      [&](std::vector<std::unique_ptr<TestTask>> batch) {
        EXPECT_LE(batch.size(), 16u);
        for (const auto& task : batch) seen[task->id].fetch_add(1);
        if (done.fetch_add(static_cast<int>(batch.size())) + static_cast<int>(batch.size()) ==
            kTotal) {
          all_done.Notify();
        }
      },
      [](std::unique_ptr<TestTask> task, absl::Status) {
        ADD_FAILURE() << "dropped " << task->id;
      });
  ASSERT_TRUE(queue_or.ok());
  Queue& queue = **queue_or;
  std::atomic<int> rejections{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        auto task = std::make_unique<TestTask>(p * kPerProducer + i);
        while (true) {  // a real client backs off; here a full queue just yields
          absl::Status status = queue.Schedule(task);
          if (status.ok()) break;
          ASSERT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
          ASSERT_NE(task, nullptr);
          rejections.fetch_add(1);
          std::this_thread::yield();
        }
      }
    });
  }
  for (std::thread& t : producers) t.join();
  ASSERT_TRUE(all_done.WaitForNotificationWithTimeout(kWait));
  for (int i = 0; i < kTotal; ++i) ASSERT_EQ(seen[i].load(), 1) << "task " << i;
}

class RecordingObserver : public BatchQueueObserver {
 public:
  void OnQueueDepth(const std::string& queue, size_t depth) override {
    absl::MutexLock lock(&mu_);
    EXPECT_EQ(queue, "encode");
    depths.push_back(depth);
  }
  void OnTaskDequeued(const std::string&, absl::Duration wait) override {
    absl::MutexLock lock(&mu_);
    waits.push_back(wait);
  }
  void OnBatch(const std::string&, size_t size, absl::Duration) override {
    absl::MutexLock lock(&mu_);
    batch_sizes.push_back(size);
  }
  void OnTaskDropped(const std::string&, const absl::Status& reason) override {
    absl::MutexLock lock(&mu_);
    drops.push_back(reason.code());
  }
  void OnRejected(const std::string&) override {
    absl::MutexLock lock(&mu_);
    ++rejected;
  }
  // Read after the queue has shut down (workers joined).
  absl::Mutex mu_;
  std::vector<size_t> depths;
  std::vector<absl::Duration> waits;
  std::vector<size_t> batch_sizes;
  std::vector<absl::StatusCode> drops;
  int rejected = 0;
};

TEST_P(BatchQueueTest, ObserverSeesDepthBatchSizesWaitsAndDrops) {
  RecordingObserver observer;
  const size_t workers = static_cast<size_t>(GetParam());
  Queue::Options options = MakeOptions(4, absl::Seconds(60), 4);
  options.observer = &observer;
  recorder_.Gate();
  auto queue = MakeQueue(options);
  for (size_t w = 0; w < workers; ++w) {  // a full batch per worker: each taken at once, then held
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(Schedule(*queue, static_cast<int>(4 * w) + i).ok());
    ASSERT_TRUE(recorder_.WaitBatchesStarted(w + 1));
  }
  for (int i = 100; i < 104; ++i) ASSERT_TRUE(Schedule(*queue, i, absl::InfinitePast()).ok());
  EXPECT_EQ(Schedule(*queue, 200).code(), absl::StatusCode::kResourceExhausted);
  recorder_.Release();
  queue->Shutdown(kWait);

  absl::MutexLock lock(&observer.mu_);
  EXPECT_EQ(*std::max_element(observer.depths.begin(), observer.depths.end()), 4u);
  EXPECT_EQ(observer.depths.back(), 0u);
  EXPECT_EQ(observer.batch_sizes, std::vector<size_t>(workers, 4u));
  EXPECT_EQ(observer.waits.size(), 4 * workers);
  for (absl::Duration wait : observer.waits) EXPECT_GE(wait, absl::ZeroDuration());
  EXPECT_EQ(observer.drops.size(), 4u);  // expired (or, if shutdown won the race, unavailable)
  EXPECT_EQ(observer.rejected, 1);
}

INSTANTIATE_TEST_SUITE_P(Workers, BatchQueueTest, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "Workers";
                         });

TEST(BatchQueueCreateTest, RejectsBadOptionsAndNullCallbacks) {
  auto process = [](std::vector<std::unique_ptr<TestTask>>) {};
  auto drop = [](std::unique_ptr<TestTask>, absl::Status) {};
  Queue::Options options;
  options.max_batch_size = 0;
  EXPECT_EQ(Queue::Create(options, process, drop).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Queue::Options();
  options.num_workers = 0;
  EXPECT_EQ(Queue::Create(options, process, drop).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Queue::Options();
  options.max_queue_delay = -absl::Milliseconds(1);
  EXPECT_EQ(Queue::Create(options, process, drop).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Queue::Create(Queue::Options(), nullptr, drop).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Queue::Create(Queue::Options(), process, drop).ok());
}

TEST(BatchQueueCreateTest, RetryHintComesFromBatchLatency) {
  BatchQueueOptions options;
  options.max_queue_depth = 64;
  options.max_batch_size = 8;
  options.num_workers = 2;
  // 8 batches over 2 workers = 4 rounds of 10 ms.
  EXPECT_EQ(EstimateRetryAfter(options, absl::Milliseconds(10)), absl::Milliseconds(40));
  EXPECT_EQ(EstimateRetryAfter(options, absl::ZeroDuration()), options.max_queue_delay);
  EXPECT_EQ(QueueFullError(options, absl::Milliseconds(40)).message(),
            "batch queue full (depth 64); retry after ~40 ms");
}

}  // namespace
}  // namespace mivla::server
