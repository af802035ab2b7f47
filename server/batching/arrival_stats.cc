#include "server/batching/arrival_stats.h"

#include <algorithm>

namespace mivla::server {
namespace {

constexpr double kNewGapWeight = 0.2;                      // share of a new gap in the mean
constexpr absl::Duration kSlackWindow = absl::Seconds(2);  // arrivals older than this leave the budget

}  // namespace

void ArrivalStats::Gap::Add(absl::Time now) {
  if (last != absl::InfinitePast()) {
    const absl::Duration gap = now - last;
    mean = mean < absl::ZeroDuration() ? gap : mean * (1 - kNewGapWeight) + gap * kNewGapWeight;
  }
  last = now;
}

void ArrivalStats::Record(absl::Time now, absl::Duration slack, absl::Duration cost1) {
  all_.Add(now);
  if (slack > cost1) servable_.Add(now);
  if (slack > cost1 * 2 && slack < absl::InfiniteDuration()) {
    recent_slack_[slack_count_++ % recent_slack_.size()] = {now, slack};
  }
}

absl::Time ArrivalStats::next_arrival() const {
  return all_.mean < absl::ZeroDuration() ? absl::InfiniteFuture() : all_.last + all_.mean;
}

absl::Duration ArrivalStats::servable_gap() const {
  return servable_.mean < absl::ZeroDuration() ? absl::InfiniteDuration() : servable_.mean;
}

absl::Duration ArrivalStats::blocking_budget(absl::Time now) const {
  absl::Duration budget = absl::InfiniteDuration();
  for (size_t i = 0; i < std::min(slack_count_, recent_slack_.size()); ++i) {
    if (now - recent_slack_[i].first > kSlackWindow) continue;
    budget = std::min(budget, recent_slack_[i].second / 2);
  }
  return budget;
}

}  // namespace mivla::server
