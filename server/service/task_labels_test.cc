#include "server/service/task_labels.h"

#include "gtest/gtest.h"

namespace mivla::server {
namespace {

TEST(TaskLabelsTest, BoundedPerEmbodimentWithOtherAndPresets) {
  TaskLabels::Options o;
  o.max_per_embodiment = 2;
  o.preset = {"stack_blocks_two"};
  TaskLabels labels(o);
  EXPECT_EQ(labels.Label("PIPER", "a"), "a");
  EXPECT_EQ(labels.Label("PIPER", "b"), "b");
  EXPECT_EQ(labels.Label("PIPER", "c"), "other");
  EXPECT_EQ(labels.Label("PIPER", "a"), "a");
  EXPECT_EQ(labels.Label("PIPER", "stack_blocks_two"), "stack_blocks_two");  // preset, not counted
  EXPECT_EQ(labels.Label("ARX5", "c"), "c");  // per embodiment
  for (int i = 0; i < 20000; ++i) EXPECT_EQ(labels.Label("ARX5", "t" + std::to_string(i)), i == 0 ? "t0" : "other");
}

}  // namespace
}  // namespace mivla::server
