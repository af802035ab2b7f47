#include "server/inference/act_deadline.h"

#include <algorithm>
#include <cstdlib>

namespace mivla::server {

bool ClockRunsAtServerPace(int64_t from_us, absl::Time from_received, int64_t to_us, absl::Time to_received) {
  if (from_received == absl::InfinitePast() || to_received == absl::InfinitePast()) return false;
  const absl::Duration robot = absl::Microseconds(to_us - from_us);
  const absl::Duration server = to_received - from_received;
  const absl::Duration tolerance = std::max(absl::Milliseconds(50), absl::AbsDuration(server) * 0.25);
  return absl::AbsDuration(robot - server) <= tolerance;
}

ActDeadline ComputeActDeadline(absl::Time arrival, absl::Time rpc_deadline, const EncodedObservation& observation,
                               int64_t request_deadline_us, const std::optional<SentChunk>& last_chunk,
                               absl::Duration horizon, bool drop_on_chunk_end) {
  ActDeadline d;
  std::optional<int64_t> robot_us;
  bool may_drop = false;
  if (request_deadline_us > 0) {
    robot_us = request_deadline_us;
    may_drop = true;
  } else if (last_chunk.has_value()) {
    robot_us = last_chunk->end_us;
    may_drop = drop_on_chunk_end && ClockRunsAtServerPace(last_chunk->observation_time_us, last_chunk->observation_received,
                                     observation.timestamp_us, observation.received);
  }
  if (robot_us.has_value()) {
    const absl::Time anchor = observation.received == absl::InfinitePast() ? arrival : observation.received;
    // Both values are range-checked robot times (>= 0, bounded), so the difference cannot overflow.
    d.run_out = anchor + absl::Microseconds(*robot_us - observation.timestamp_us);
    d.urgency = d.run_out;
    if (may_drop && d.run_out > arrival) d.drop = d.late_after = d.run_out;
  } else {
    d.urgency = arrival + horizon;
  }
  d.urgency = std::min(d.urgency, rpc_deadline);
  d.drop = std::min(d.drop, rpc_deadline);
  return d;
}

}  // namespace mivla::server
