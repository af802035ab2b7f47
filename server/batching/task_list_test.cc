#include "server/batching/task_list.h"

#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

struct Item {
  int id;
  absl::Time expiry;
};

}  // namespace

template <>
struct BatchTaskTraits<Item> {
  static absl::Time Deadline(const Item& item) { return item.expiry; }
};

namespace {

TEST(TaskListTest, TakeBatchKeepsFifoSkipsExpiredAndRecordsWaits) {
  const absl::Time t0 = absl::UnixEpoch() + absl::Hours(1);
  TaskList<Item> list;
  list.Push(std::make_unique<Item>(Item{0, absl::InfiniteFuture()}), t0);
  list.Push(std::make_unique<Item>(Item{1, t0}), t0);  // expired at t0 + 1s
  list.Push(std::make_unique<Item>(Item{2, absl::InfiniteFuture()}), t0 + absl::Milliseconds(5));
  list.Push(std::make_unique<Item>(Item{3, absl::InfiniteFuture()}), t0 + absl::Milliseconds(6));
  EXPECT_EQ(list.oldest_enqueue_time(), t0);

  TaskList<Item>::Batch batch = list.TakeBatch(2, t0 + absl::Seconds(1));
  ASSERT_EQ(batch.tasks.size(), 2u);
  EXPECT_EQ(batch.tasks[0]->id, 0);
  EXPECT_EQ(batch.tasks[1]->id, 2);
  ASSERT_EQ(batch.waits.size(), 2u);
  EXPECT_EQ(batch.waits[0], absl::Seconds(1));
  EXPECT_EQ(batch.waits[1], absl::Milliseconds(995));
  ASSERT_EQ(batch.expired.size(), 1u);
  EXPECT_EQ(batch.expired[0]->id, 1);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list.Pop().task->id, 3);
  EXPECT_TRUE(list.empty());
}

}  // namespace
}  // namespace mivla::server
