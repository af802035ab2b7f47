// File: batch_cost_model.h
// BatchCostModel: how long ProcessBatchFn takes for a batch of b tasks, learnt online from the batches
// the queue runs (an exponentially weighted mean per batch size). Sizes not measured yet are estimated
// from their measured neighbours: linear between two, along the line through the last two measured
// sizes beyond them (never decreasing), proportionally to size from a single measured one. With nothing
// measured the estimate is zero (the planner then takes whatever waits).
//
//   BatchCostModel cost(/*max_batch_size=*/16);
//   cost.Record(4, absl::Milliseconds(40));
//   absl::Duration c8 = cost.Estimate(8);  // 80 ms from one point
//
// Thread safety: none; BatchQueue guards it with its mutex.
#ifndef MIVLA_SERVER_BATCHING_BATCH_COST_MODEL_H_
#define MIVLA_SERVER_BATCHING_BATCH_COST_MODEL_H_

#include <cstddef>
#include <vector>

#include "absl/time/time.h"

namespace mivla::server {

class BatchCostModel {
 public:
  /// Sizes 1..max_batch_size are tracked; `weight` is the share of a new measurement in the mean (0, 1].
  explicit BatchCostModel(size_t max_batch_size, double weight = 0.2);

  /// Adds one measurement of a batch of `size` (clamped to 1..max_batch_size); negative times count as 0.
  void Record(size_t size, absl::Duration cost);
  /// Estimated cost of a batch of `size` (clamped to 1..max_batch_size); zero when nothing is measured.
  absl::Duration Estimate(size_t size) const;
  /// True when `size` has at least one measurement of its own.
  bool Measured(size_t size) const;
  size_t max_batch_size() const { return mean_s_.size() - 1; }

 private:
  double weight_;
  std::vector<double> mean_s_;  // index = batch size; < 0: not measured
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_BATCHING_BATCH_COST_MODEL_H_
