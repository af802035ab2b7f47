// File: inference_worker.cc
#include "client/robot/inference_worker.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/net/backoff.h"
#include "core/util/log.h"

namespace mivla::client {

void RunInferenceWorker(RobotClientState& s) {
  // While idle the worker waits on the channel (driving its I/O, so a server that goes away is
  // noticed within this poll even with no call in flight), then looks for an observation.
  const int64_t poll_us = std::max<int64_t>(1000, std::min<int64_t>(5000, s.period_us / 8));
  Backoff refusals(s.conn->options().backoff);  // paces requests after a refusal
  while (true) {
    std::optional<RobotReading> obs;
    bool connected;
    {
      absl::MutexLock l(&s.mu);
      if (s.worker_stop) return;
      obs.swap(s.observation);
      connected = s.health.server_connected;
    }
    if (connected && !obs.has_value()) {
      if (!s.conn->WaitWhileReady(poll_us)) s.MarkLost(absl::UnavailableError("the connection to the server closed"));
      continue;
    }
    if (connected && obs.has_value()) {
      absl::Status fetched = s.FetchChunk(*obs);
      if (fetched.ok()) {
        refusals.Reset();
      } else {
        const Failure kind = s.HandleFailure(fetched);
        if (kind == Failure::kFatal) return;  // the control loop ends the run
        if (kind == Failure::kRefused) {  // overload, bad chunk, deadline: wait before asking again
          absl::MutexLock l(&s.mu);
          s.mu.AwaitWithTimeout(absl::Condition(&s.worker_stop), absl::Milliseconds(refusals.NextDelayMs()));
        }
      }
    }
    {
      absl::MutexLock l(&s.mu);
      s.in_flight = false;
      connected = s.health.server_connected;
    }
    while (!connected && !s.Stopping()) {
      const int64_t delay_ms = s.conn->NextBackoffMs();
      {
        absl::MutexLock l(&s.mu);
        s.mu.AwaitWithTimeout(absl::Condition(&s.worker_stop), absl::Milliseconds(delay_ms));
        if (s.worker_stop) return;
      }
      absl::Status r = s.conn->Reconnect();
      if (r.ok()) {
        s.MarkReconnected();
        connected = true;
      } else if (ClassifyFailure(r) == Failure::kFatal) {
        absl::MutexLock l(&s.mu);
        if (s.fatal.ok()) s.fatal = FatalClientError(r);
        LogError("robot_client", std::string(s.fatal.message()));
        return;
      }
    }
  }
}

}  // namespace mivla::client
