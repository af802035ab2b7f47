// File: lockstep_refill.h
// The simulated clock's refill (simulation as fast as possible): inference in lockstep on the control
// loop's thread, so episodes are reproducible. When the scheduler needs a chunk (or the session is
// lost) it reads the driver (cameras included; the reading goes to `*reading` for the tick to use),
// sends Observe + Act and queues the chunk. While the server refuses or is lost it blocks, retrying
// with backoff and reconnecting, until a chunk arrives, so simulated time never runs on with hold
// ticks; after options.lockstep_give_up_ms of wall time it fails with DeadlineExceeded. A fatal
// refusal (credentials) fails at once. Called by RobotClient::Run on its thread.
#ifndef MIVLA_CLIENT_ROBOT_LOCKSTEP_REFILL_H_
#define MIVLA_CLIENT_ROBOT_LOCKSTEP_REFILL_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "client/robot/robot_client_state.h"

namespace mivla::client {

absl::Status LockstepRefill(RobotClientState& s, int64_t now, std::optional<RobotReading>* reading);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_ROBOT_LOCKSTEP_REFILL_H_
