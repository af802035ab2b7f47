// File: histogram.h
// Histogram: observations counted into fixed buckets with upper bounds (inclusive: a value equal to
// a bound counts in that bucket), plus their sum and count. An implicit +Inf bucket catches the rest.
//
//   Histogram* h = latency->WithLabels({"decode"}).value();
//   h->Observe(0.0123);
//
// Thread safety: Observe and Snapshot may be called from any thread concurrently (atomics only).
// A snapshot taken during concurrent Observe calls may hold a sum that lags the bucket counts by
// the in-flight observations; its count always equals the +Inf bucket.
#ifndef MIVLA_SERVER_METRICS_HISTOGRAM_H_
#define MIVLA_SERVER_METRICS_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"

namespace mivla::metrics {

class Histogram {
 public:
  static constexpr const char* kTypeName = "histogram";

  struct Snapshot {
    std::vector<double> bounds;              // finite upper bounds, strictly increasing
    std::vector<uint64_t> cumulative_counts;  // bounds.size() + 1 entries; the last is +Inf
    double sum = 0;
    uint64_t count = 0;
  };

  /// `bounds` must be finite and strictly increasing (see ValidateBounds).
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  /// OK when every bound is finite and the bounds strictly increase (an empty list is allowed).
  static absl::Status ValidateBounds(const std::vector<double>& bounds);

  /// `count` bounds: start, start + width, ...
  static std::vector<double> LinearBounds(double start, double width, int count);
  /// `count` bounds: start, start * factor, ...
  static std::vector<double> ExponentialBounds(double start, double factor, int count);
  /// Prometheus' default latency bounds in seconds (0.005 ... 10).
  static std::vector<double> DefaultBounds();

  void Observe(double value);
  Snapshot Collect() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; +Inf last
  std::atomic<double> sum_{0.0};
};

}  // namespace mivla::metrics

#endif  // MIVLA_SERVER_METRICS_HISTOGRAM_H_
