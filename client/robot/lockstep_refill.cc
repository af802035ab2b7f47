// File: lockstep_refill.cc
#include "client/robot/lockstep_refill.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/net/backoff.h"
#include "core/util/status_macros.h"

namespace mivla::client {

absl::Status LockstepRefill(RobotClientState& s, int64_t now, std::optional<RobotReading>* reading) {
  // A chunk held back to emulate the inference delay arrives at its tick, before this tick's action.
  if (s.pending.has_value() && now >= s.pending->arrive_us) {
    s.QueueChunk(*s.pending);
    s.pending.reset();
  }
  bool connected, refill;
  {
    absl::MutexLock l(&s.mu);
    connected = s.health.server_connected;
    refill = s.scheduler.NeedsRefill(now) && !s.pending.has_value();
  }
  if (connected && !s.conn->ChannelReady()) {
    s.MarkLost(absl::UnavailableError("the connection to the server closed"));
    connected = false;
  }
  const int64_t give_up_at = WallUs() + 1000 * s.options.lockstep_give_up_ms;
  Backoff refusals(s.conn->options().backoff);
  absl::Status last;
  while (!connected || refill) {
    if (!connected) {
      absl::Status r = s.conn->Reconnect();
      if (r.ok()) {
        s.MarkReconnected();  // the queue is cleared: a fresh chunk is needed now
        connected = refill = true;
      } else if (ClassifyFailure(r) == Failure::kFatal) {
        return FatalClientError(r);
      } else {
        last = r;
      }
    }
    if (connected && refill) {
      if (!reading->has_value()) {
        ASSIGN_OR_RETURN(*reading, s.driver->Read(true));
      }
      absl::Status f = s.FetchChunk(**reading, /*lockstep=*/true);
      if (f.ok()) return absl::OkStatus();
      if (s.HandleFailure(f) == Failure::kFatal) return FatalClientError(f);
      last = f;
      absl::MutexLock l(&s.mu);
      connected = s.health.server_connected;
    }
    if (WallUs() >= give_up_at) {
      return absl::DeadlineExceededError(absl::StrCat(
          "lockstep: no chunk from the policy server for ", s.options.lockstep_give_up_ms,
          " ms (the simulation waits for the policy; lockstep_give_up_ms); last error: ", last.ToString()));
    }
    const int64_t delay_ms = connected ? refusals.NextDelayMs() : s.conn->NextBackoffMs();
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max<int64_t>(
        0, std::min<int64_t>(delay_ms, (give_up_at - WallUs()) / 1000 + 1))));
  }
  return absl::OkStatus();
}

}  // namespace mivla::client
