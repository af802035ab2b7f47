#include "server/inference/image_decode_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

TEST(ImageDecodePoolTest, RunsJobsOnSeveralThreadsAndRefusesWhenFull) {
  ImageDecodePool::Options o;
  o.threads = 2;
  o.max_pending = 2;
  auto pool = ImageDecodePool::Create(o);
  ASSERT_TRUE(pool.ok()) << pool.status();
  absl::Notification release, both_running;
  std::atomic<int> running{0}, ran{0};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE((*pool)
                    ->Submit([&] {
                      if (++running == 2) both_running.Notify();
                      release.WaitForNotification();
                      ++ran;
                    })
                    .ok());
  }
  // Two jobs hold both threads at once: a slow image does not stop the other thread.
  ASSERT_TRUE(both_running.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE((*pool)->Submit([&] { ++ran; }).ok());
  ASSERT_TRUE((*pool)->Submit([&] { ++ran; }).ok());
  absl::Status full = (*pool)->Submit([&] { ++ran; });
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("retry"), std::string::npos);
  release.Notify();
  (*pool)->Shutdown();  // runs the queued ones
  EXPECT_EQ(ran.load(), 4);
  EXPECT_EQ((*pool)->Submit([] {}).code(), absl::StatusCode::kUnavailable);
}

TEST(ImageDecodePoolTest, OptionsAreChecked) {
  ImageDecodePool::Options o;
  o.threads = 0;
  EXPECT_EQ(ImageDecodePool::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mivla::server
