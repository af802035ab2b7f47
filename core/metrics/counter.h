// File: counter.h
// Counter and Gauge: single lock-free double values, the children of a Family (see family.h).
//
//   Counter* c = requests->WithLabels({"Act", "OK"}).value();  // look up once, keep the pointer
//   c->Inc();
//
// Thread safety: every method may be called from any thread at any time (atomics, no locks).
#ifndef MIVLA_SERVER_METRICS_COUNTER_H_
#define MIVLA_SERVER_METRICS_COUNTER_H_

#include <atomic>

namespace mivla::metrics {

namespace internal {
/// Adds `delta` to `value` with a compare-and-swap loop (std::atomic<double>::fetch_add is C++20).
inline void AtomicAdd(std::atomic<double>* value, double delta) {
  double current = value->load(std::memory_order_relaxed);
  while (!value->compare_exchange_weak(current, current + delta, std::memory_order_relaxed)) {
  }
}
}  // namespace internal

/// A monotonically increasing value. Negative increments are ignored.
class Counter {
 public:
  static constexpr const char* kTypeName = "counter";

  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Inc() { Inc(1.0); }
  void Inc(double delta) {
    if (delta > 0) internal::AtomicAdd(&value_, delta);
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// A value that can go up and down.
class Gauge {
 public:
  static constexpr const char* kTypeName = "gauge";

  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Inc(double delta = 1.0) { internal::AtomicAdd(&value_, delta); }
  void Dec(double delta = 1.0) { internal::AtomicAdd(&value_, -delta); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

}  // namespace mivla::metrics

#endif  // MIVLA_SERVER_METRICS_COUNTER_H_
