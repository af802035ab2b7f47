// File: robot_client_state.h
// Internal to the robot client (robot_client.cc, inference_worker.cc, lockstep_refill.cc): what the
// control loop and the inference side share, and the inference side's steps: one chunk request (Observe
// + Act, mapped onto the robot and queued), what a failed request does (request_failure.h), the server
// lost / reconnected transitions, and a tick's statistics and metrics.
// Thread-safety: the fields under `mu` are shared by the control loop and the worker thread; the
// adapter belongs to the inference side, the safety layer and holds_seen to the control loop.
#ifndef MIVLA_CLIENT_ROBOT_ROBOT_CLIENT_STATE_H_
#define MIVLA_CLIENT_ROBOT_ROBOT_CLIENT_STATE_H_

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "client/robot/request_failure.h"
#include "client/robot/robot_client.h"

namespace mivla::client {

/// Microseconds on the steady clock.
int64_t WallUs();

/// A chunk as received, mapped onto the robot, before it is queued.
struct ReceivedChunk {
  std::vector<TimedAction> steps;
  int64_t observed_us = 0;     // the observation's time
  int64_t round_trip_us = 0;
  bool splice = false;         // real-time chunking: splice after the committed steps (ChunkScheduler::SpliceChunk)
  int64_t splice_from_us = 0;  // the observation time + inference_delay_steps periods
  int64_t arrive_us = 0;       // lockstep with an emulated delay: the tick it is queued at
};

struct RobotClientState {
  RobotDriver* driver = nullptr;
  ClientMetrics* metrics = nullptr;
  RobotClient::Options options;
  int64_t period_us = 40000;
  std::unique_ptr<EmbodimentAdapter> adapter;  // the inference side's (worker thread once running)
  std::optional<SafetyLayer> safety;           // the control loop's
  std::optional<GripperLatch> gripper_latch;   // the control loop's
  PolicyConnection* conn = nullptr;
  uint64_t requests = 0;
  bool realtime_chunking = false;   // the server offers it and the options want it (Create)
  std::deque<int64_t> round_trips_us;  // the inference side's last few, for the delay estimate
  std::optional<ReceivedChunk> pending;  // lockstep with lockstep_delay_ticks: not arrived yet
  std::array<int64_t, kNumHoldReasons> holds_seen{};  // the safety layer's hold counts at the last tick

  mutable absl::Mutex mu;
  ChunkScheduler scheduler ABSL_GUARDED_BY(mu){ChunkSchedulerOptions{}};
  PolicyHealth health ABSL_GUARDED_BY(mu);
  std::optional<RobotReading> observation ABSL_GUARDED_BY(mu);  // handed to the worker
  absl::Status fatal ABSL_GUARDED_BY(mu);  // set by the worker: the run must end (credentials refused)
  bool in_flight ABSL_GUARDED_BY(mu) = false;
  bool worker_stop ABSL_GUARDED_BY(mu) = false;
  uint64_t next_chunk_id ABSL_GUARDED_BY(mu) = 1;
  RobotClientStats stats ABSL_GUARDED_BY(mu);
  std::thread worker;

  /// The driver's clock when simulated, else the wall clock (µs).
  int64_t Now() const { return driver->simulated_clock() ? driver->NowUs() : WallUs(); }
  /// The session is gone: hold (health.server_connected = false), count, log. Once per loss.
  void MarkLost(const absl::Status& why);
  /// A new session is up: the queue is cleared (its chunks belong to the old session).
  void MarkReconnected();
  /// Observe + Act for `reading`, mapped onto the robot and queued (lockstep with lockstep_delay_ticks:
  /// held in `pending` until its arrival tick).
  absl::Status FetchChunk(const RobotReading& reading, bool lockstep = false);
  /// Observe + Act for `reading` (with the committed steps when real-time chunking is on), mapped.
  absl::StatusOr<ReceivedChunk> RequestChunk(const RobotReading& reading, bool lockstep);
  /// Queues a received chunk (splices it when it was guided).
  void QueueChunk(const ReceivedChunk& chunk);
  /// Real-time chunking: the control ticks the robot executes before a chunk asked for now arrives:
  /// lockstep, lockstep_delay_ticks; wall clock, ceil(the largest of the last 5 round trips / period),
  /// at least 1 (the observation's tick has run already).
  int EstimateDelaySteps(bool lockstep) const;
  /// A failed chunk request: counted; a lost server is marked (a deadline only when the channel is down
  /// too); a fatal refusal is recorded in `fatal` for the control loop to end the run.
  Failure HandleFailure(const absl::Status& s);
  /// Statistics and metrics of one tick; hold episodes are counted as the safety layer counts them.
  void Account(const SafetyDecision& dec, int64_t start);
  bool Stopping();
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_ROBOT_ROBOT_CLIENT_STATE_H_
