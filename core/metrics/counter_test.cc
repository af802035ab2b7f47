#include "core/metrics/counter.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "core/metrics/registry.h"

namespace mivla::metrics {
namespace {

TEST(CounterTest, IncrementsAndIgnoresNegative) {
  Counter counter;
  EXPECT_EQ(counter.Value(), 0);
  counter.Inc();
  counter.Inc(2.5);
  counter.Inc(-10);
  EXPECT_EQ(counter.Value(), 3.5);
}

TEST(GaugeTest, SetIncDec) {
  Gauge gauge;
  gauge.Set(10);
  gauge.Inc();
  gauge.Inc(4);
  gauge.Dec();
  gauge.Dec(20);
  EXPECT_EQ(gauge.Value(), -6);
}

TEST(CounterTest, ConcurrentIncrementsAreExact) {
  Registry registry;
  Family<Counter>* family = registry.AddCounter("c_total", "c", {"t"}).value();
  Family<Gauge>* gauges = registry.AddGauge("g", "g", {}).value();
  constexpr int kThreads = 8;
  constexpr int kIncrements = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter* shared = family->WithLabels({"shared"}).value();
      Counter* own = family->WithLabels({std::to_string(t)}).value();
      Gauge* gauge = gauges->WithLabels({}).value();
      for (int i = 0; i < kIncrements; ++i) {
        shared->Inc();
        own->Inc();
        gauge->Inc();
        if (i % 2 == 0) gauge->Dec();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(family->WithLabels({"shared"}).value()->Value(), kThreads * kIncrements);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(family->WithLabels({std::to_string(t)}).value()->Value(), kIncrements);
  }
  EXPECT_EQ(gauges->WithLabels({}).value()->Value(), kThreads * kIncrements / 2);
}

TEST(FamilyTest, ChildrenAreStableAndCheckArity) {
  Registry registry;
  Family<Counter>* family = registry.AddCounter("r_total", "r", {"a", "b"}).value();
  Counter* first = family->WithLabels({"x", "y"}).value();
  EXPECT_EQ(family->WithLabels({"x", "y"}).value(), first);
  EXPECT_NE(family->WithLabels({"x", "z"}).value(), first);
  EXPECT_EQ(family->WithLabels({"x"}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mivla::metrics
