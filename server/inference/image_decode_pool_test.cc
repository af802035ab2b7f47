#include "server/inference/image_decode_pool.h"

#include <atomic>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

void Unblock(absl::Notification& n) {
  if (!n.HasBeenNotified()) n.Notify();
}

std::unique_ptr<ImageDecodePool> MakePool(int threads, size_t max_pending) {
  ImageDecodePool::Options o;
  o.threads = threads;
  o.max_pending = max_pending;
  absl::StatusOr<std::unique_ptr<ImageDecodePool>> made = ImageDecodePool::Create(o);
  EXPECT_TRUE(made.ok()) << made.status();
  return made.ok() ? *std::move(made) : nullptr;
}

TEST(ImageDecodePoolTest, RunsJobsOnSeveralThreadsAndRefusesWhenFull) {
  absl::Notification release, both_running;
  std::atomic<int> running{0}, ran{0};
  std::unique_ptr<ImageDecodePool> pool = MakePool(2, 2);  // after what its jobs use, so destroyed first
  ASSERT_NE(pool, nullptr);
  absl::Cleanup unblock = [&] { Unblock(release); };  // a failed assertion must not leave jobs waiting
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(pool->Submit([&] {
                      if (++running == 2) both_running.Notify();
                      release.WaitForNotification();
                      ++ran;
                    })
                    .ok());
  }
  // Two jobs hold both threads at once: a slow image does not stop the other thread.
  ASSERT_TRUE(both_running.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(pool->Submit([&] { ++ran; }).ok());
  ASSERT_TRUE(pool->Submit([&] { ++ran; }).ok());
  absl::Status full = pool->Submit([&] { ++ran; });
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("retry"), std::string::npos);
  Unblock(release);
  pool->Shutdown();  // runs the queued ones
  EXPECT_EQ(ran.load(), 4);
  EXPECT_EQ(pool->Submit([] {}).code(), absl::StatusCode::kUnavailable);
}

TEST(ImageDecodePoolTest, PartsOfOneJobRunSideBySideAndDoneRunsOnceAfterThem) {
  absl::Notification all_running, finished;
  std::atomic<int> running{0}, done_calls{0};
  std::vector<int> ran(3, 0);  // each part writes its own slot
  std::unique_ptr<ImageDecodePool> pool = MakePool(3, 1);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->SubmitParts(
                      3,
                      [&](int i) {
                        // Every part waits until all three run: one job's parts hold three threads at once.
                        if (++running == 3) all_running.Notify();
                        all_running.WaitForNotificationWithTimeout(absl::Seconds(10));
                        ran[i] += 1;
                      },
                      [&] {
                        EXPECT_EQ(ran, (std::vector<int>{1, 1, 1}));  // after every part, which wrote once
                        ++done_calls;
                        finished.Notify();
                      })
                  .ok());
  ASSERT_TRUE(finished.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(all_running.HasBeenNotified());
  EXPECT_EQ(done_calls.load(), 1);
  pool->Shutdown();
  EXPECT_EQ(done_calls.load(), 1);
}

TEST(ImageDecodePoolTest, AJobCountsOnceAgainstMaxPendingWhateverItsParts) {
  absl::Notification release, started;
  std::atomic<int> parts_run{0}, jobs_done{0};
  std::unique_ptr<ImageDecodePool> pool = MakePool(1, 2);
  ASSERT_NE(pool, nullptr);
  absl::Cleanup unblock = [&] { Unblock(release); };
  ASSERT_TRUE(pool->Submit([&] {
                    started.Notify();
                    release.WaitForNotification();
                  })
                  .ok());
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(10)));  // the thread is busy, the queue empty
  for (int j = 0; j < 2; ++j) {
    ASSERT_TRUE(pool->SubmitParts(
                        3, [&](int) { ++parts_run; }, [&] { ++jobs_done; })
                    .ok())
        << j;
  }
  EXPECT_EQ(pool->pending(), 2u);
  EXPECT_EQ(pool->SubmitParts(
                    3, [&](int) { ++parts_run; }, nullptr)
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(pool->SubmitParts(
                    0, [](int) {}, nullptr)
                .code(),
            absl::StatusCode::kInvalidArgument);
  Unblock(release);
  pool->Shutdown();  // runs the queued parts
  EXPECT_EQ(parts_run.load(), 6);
  EXPECT_EQ(jobs_done.load(), 2);
}

TEST(ImageDecodePoolTest, OptionsAreChecked) {
  ImageDecodePool::Options o;
  o.threads = 0;
  EXPECT_EQ(ImageDecodePool::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mivla::server
