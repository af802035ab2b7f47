// File: act_deadline.h
// When an Act must be answered (issue 12 item 2): the moment the robot runs out of actions, on the
// server's clock. The robot's clock (ObserveRequest.timestamp_us) is mapped onto the server's through
// the observation the Act samples on: its timestamp corresponds to the server time its Observe arrived.
//
//   run-out (robot time) = ActRequest.deadline_us when set, else the end of the last chunk sent to the
//                          session (last step's timestamp + one control period), else unknown
//   run-out (server)     = observation received + (run-out - observation timestamp)
//   urgency (EDF key)    = run-out; unknown: arrival + one model horizon (a robot starting up waits for
//                          its first chunk anyway); never later than the gRPC deadline
//   drop deadline        = run-out when it still lies ahead at arrival (past it the queued Act is
//                          DEADLINE_EXCEEDED); a robot already out of actions at arrival is never
//                          dropped for it (EDF serves it after the requests that can still make theirs).
//                          A run-out derived from the last chunk drops only with `drop_on_chunk_end`
//                          (--drop-on-chunk-end) and only when the robot's clock runs at the server's
//                          pace (between that chunk's observation and this one both clocks advanced
//                          alike, within max(50 ms, 25 %)); by default it only orders the queue, since
//                          a simulated clock that happens to run near real time cannot be told apart
//                          from a real one and such clients (tests, evaluations) never declared one.
//                          Never later than the gRPC deadline.
//   late after           = that droppable run-out (deadline_us; a chunk end only as above) when it still
//                          lay ahead at arrival: an Act answered or dropped at or after it is late
//                          (PolicyEngine::Options::on_late_act). A robot already out of actions, or one
//                          whose run-out only orders, is never late.
// Thread safety: pure function.
#ifndef MIVLA_SERVER_INFERENCE_ACT_DEADLINE_H_
#define MIVLA_SERVER_INFERENCE_ACT_DEADLINE_H_

#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "server/session/encoded_observation.h"
#include "server/session/session.h"

namespace mivla::server {

struct ActDeadline {
  absl::Time drop = absl::InfiniteFuture();     // DEADLINE_EXCEEDED past it while queued
  absl::Time urgency = absl::InfiniteFuture();  // EDF key
  absl::Time run_out = absl::InfiniteFuture();  // when the robot runs out of actions; infinite: unknown
  absl::Time late_after = absl::InfiniteFuture();  // answered or dropped from then on: late (see above)
};

/// `request_deadline_us`: ActRequest.deadline_us (0 = not set, range-checked by the caller);
/// `last_chunk`: Session::last_chunk(); `horizon`: the model's horizon in seconds (H / rate).
ActDeadline ComputeActDeadline(absl::Time arrival, absl::Time rpc_deadline, const EncodedObservation& observation,
                               int64_t request_deadline_us, const std::optional<SentChunk>& last_chunk,
                               absl::Duration horizon, bool drop_on_chunk_end = false);

/// True when the robot clock advanced like the server's between two observations (see above).
bool ClockRunsAtServerPace(int64_t from_us, absl::Time from_received, int64_t to_us, absl::Time to_received);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_ACT_DEADLINE_H_
