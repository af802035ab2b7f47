#include "server/batching/batch_cost_model.h"

#include <algorithm>

namespace mivla::server {

BatchCostModel::BatchCostModel(size_t max_batch_size, double weight)
    : weight_(weight > 0 && weight <= 1 ? weight : 0.2), mean_s_(std::max<size_t>(max_batch_size, 1) + 1, -1.0) {}

void BatchCostModel::Record(size_t size, absl::Duration cost) {
  size = std::clamp<size_t>(size, 1, max_batch_size());
  const double s = std::max(0.0, absl::ToDoubleSeconds(cost));
  double& m = mean_s_[size];
  m = m < 0 ? s : (1 - weight_) * m + weight_ * s;
}

bool BatchCostModel::Measured(size_t size) const {
  return size >= 1 && size <= max_batch_size() && mean_s_[size] >= 0;
}

absl::Duration BatchCostModel::Estimate(size_t size) const {
  size = std::clamp<size_t>(size, 1, max_batch_size());
  if (mean_s_[size] >= 0) return absl::Seconds(mean_s_[size]);
  // Nearest measured sizes below and above, and the two largest measured ones (for extrapolation).
  size_t below = 0, above = 0, last = 0, before_last = 0;
  for (size_t b = 1; b <= max_batch_size(); ++b) {
    if (mean_s_[b] < 0) continue;
    if (b < size) below = b;
    if (b > size && above == 0) above = b;
    before_last = last;
    last = b;
  }
  if (last == 0) return absl::ZeroDuration();
  const auto at = [&](size_t b) { return mean_s_[b]; };
  double s;
  if (below != 0 && above != 0) {
    const double f = static_cast<double>(size - below) / static_cast<double>(above - below);
    s = at(below) + f * (at(above) - at(below));
  } else if (above != 0) {
    s = at(above);  // smaller than anything measured: at most the smallest measured cost
    if (below == 0 && above > 1) {
      // Scale down only when a line is known; a lone point gives its own cost (optimistic for small sizes).
      size_t second = 0;
      for (size_t b = above + 1; b <= max_batch_size() && second == 0; ++b) {
        if (mean_s_[b] >= 0) second = b;
      }
      if (second != 0) {
        const double slope = std::max(0.0, (at(second) - at(above)) / static_cast<double>(second - above));
        s = std::max(0.0, at(above) - slope * static_cast<double>(above - size));
      }
    }
  } else if (before_last != 0) {
    const double slope = std::max(0.0, (at(last) - at(before_last)) / static_cast<double>(last - before_last));
    s = at(last) + slope * static_cast<double>(size - last);
  } else {
    s = at(last) * static_cast<double>(size) / static_cast<double>(last);
  }
  return absl::Seconds(s);
}

}  // namespace mivla::server
