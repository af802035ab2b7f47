// File: robot_client.h
// The control loop beside a robot: captures observations from its driver, keeps the robot fed with the
// server's chunks and sends every command through the safety layer.
//
// Each control tick: read the state; take the action the ChunkScheduler has for this tick (late ones are
// dropped, overlapping chunks blended); latch its grippers closed where the policy closes them
// (GripperLatch, when options.gripper sets a threshold); filter it through the SafetyLayer (limits, or a hold when
// there is no action, the chunk is stale, the server is lost, a value is not finite, or the operator stopped); send the
// result to the driver. When ChunkScheduler::NeedsRefill says the queue runs low, the tick also captures the cameras
// and hands the observation to the inference side, which sends Observe + Act, measures the round trip, maps the chunk
// onto the robot (EmbodimentAdapter) and queues it.
//
// Real-time chunking (issue 14): when GetPolicyInfo says the server offers it and
// options.scheduler.realtime_chunking is on, each Act carries the robot's committed steps (its plan from
// the observation's tick on, ChunkScheduler::Plan, up to the session's chunk length) and the number of
// them it executes before the chunk can arrive (EstimateDelaySteps: the measured round trip over the
// control period, capped at the plan); the server samples the chunk to continue them and the scheduler
// splices it in after those steps (ChunkScheduler::SpliceChunk) instead of blending.
//
// Two clocks (RobotDriver::simulated_clock):
//  - wall clock (hardware, real-time simulation): ticks are paced by sleeping to absolute deadlines;
//    a tick that starts more than a tenth of a period late (a stalled Read, a late wake-up) restarts
//    the deadline grid from its start, so no catch-up ticks follow and ticks stay about a period apart
//    (the safety layer's limits assume it); the deadlines passed are counted (missed_deadlines);
//    inference runs on a worker thread, so a slow or vanished server never stalls the loop: the robot
//    holds, the worker reconnects with capped exponential backoff (new channel + new session), and the
//    loop goes on with fresh chunks. A refusal (RESOURCE_EXHAUSTED, a malformed chunk) is not a lost
//    server, nor is DEADLINE_EXCEEDED while the channel is up (a slow server): the next request waits a
//    backoff delay. UNAUTHENTICATED / PERMISSION_DENIED end the run with an error (no reconnecting).
//  - simulated clock (simulation as fast as possible): no sleeping; inference runs in lockstep on the
//    loop's thread (the simulation waits for the chunk), so episodes are reproducible. A refusing or lost
//    server blocks the refill (retries with backoff, reconnects) until a chunk arrives; simulated time
//    does not run on meanwhile; after Options::lockstep_give_up_ms Run fails with DeadlineExceeded.
//
//   RobotClient::Options o; o.session.task = "press_bell"; ...
//   ASSIGN_OR_RETURN(auto rc, RobotClient::Create(driver.get(), std::move(conn), metrics.get(), o));
//   RETURN_IF_ERROR(rc->StartSession());
//   RETURN_IF_ERROR(rc->Run(driver->step_limit(), [&](const TickInfo& t) { return !done; }));
//   RETURN_IF_ERROR(rc->Finish(report));
//
// Ownership: the driver and metrics are borrowed (must outlive the client); the connection is owned.
// Thread-safety: one thread calls the methods; RequestStop and SetOperatorStop from any thread.
#ifndef MIVLA_CLIENT_ROBOT_ROBOT_CLIENT_H_
#define MIVLA_CLIENT_ROBOT_ROBOT_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/control/chunk_scheduler.h"
#include "client/control/gripper_latch.h"
#include "client/control/safety_layer.h"
#include "client/driver/robot_driver.h"
#include "client/net/policy_connection.h"
#include "client/robot/client_metrics.h"
#include "client/robot/embodiment_adapter.h"

namespace mivla::client {

struct RobotClientState;  // robot_client_state.h (internal)

struct TickInfo {
  int64_t tick = 0;
  int64_t now_us = 0;
  HoldReason hold = HoldReason::kNone;
  std::vector<ClampKind> clamps;
  const RobotReading* reading = nullptr;  // measured before the command
  const RobotCommand* command = nullptr;  // what was sent
  uint64_t chunk_id = 0;                  // the chunk the executed action came from (0: a hold)
  const RobotCommand* action = nullptr;   // the chunk's action after the grasp latch, before the safety
                                          // layer (null: none)
};

struct RobotClientStats {
  int64_t ticks = 0;
  int64_t fresh_ticks = 0;   // served from a chunk action (no hold)
  int64_t chunks = 0;
  int64_t failed_requests = 0;
  int64_t reconnects = 0;
  int64_t ik_failures = 0;
  int64_t missed_deadlines = 0;  // wall clock: tick deadlines skipped after a late tick (overruns)
  std::vector<int64_t> tick_start_us;  // wall-clock start of every tick (for jitter figures)
  std::vector<int64_t> tick_work_us;   // read + schedule + safety + command, per tick
  std::vector<int64_t> round_trip_us;
  int64_t guided_chunks = 0;  // chunks requested with committed steps (real-time chunking) and spliced
  int64_t gripper_latched_ticks = 0;  // ticks at which the grasp latch held a gripper closed
  int64_t last_server_lost_us = -1;   // wall clock when the client last noticed the server gone (-1: never)
};

class RobotClient {
 public:
  struct Options {
    std::string instruction;  // empty: required from the caller (the sim driver has one)
    std::string task;
    std::string robot_id = "robot";
    ChunkSchedulerOptions scheduler;  // period_us is taken from the driver
    SafetyOptions safety;             // period_us is taken from the driver
    GripperLatchOptions gripper;      // the grasp latch (off unless close_below is set)
    AdapterOptions adapter;
    uint64_t seed = 0;                // Act seed (0: server-chosen noise; else seed + request index)
    bool wait_for_first_chunk = true; // wall clock: fetch one chunk before the first tick
    bool record_ticks = false;        // fill RobotClientStats::tick_start_us / round_trip_us
    /// > 0: run the control loop (wall clock) under SCHED_FIFO at this priority, as real-time robot
    /// controllers do, so ticks preempt inference and rendering; needs CAP_SYS_NICE (otherwise a
    /// warning and normal scheduling). The thread's policy is restored when Run returns.
    int realtime_priority = 0;
    /// > 0: sleep until this long before each tick's deadline, then spin to it (trades CPU for jitter on
    /// a kernel whose wake-ups are late under load).
    int64_t busy_wait_us = 0;
    /// Simulated clock: how long a refill may wait for a chunk (retrying a refusing server, reconnecting
    /// to a lost one) before Run fails with DeadlineExceeded; simulated time stands still meanwhile.
    int64_t lockstep_give_up_ms = 60000;
    /// Simulated clock: the inference delay to emulate, in control ticks: a chunk is queued this many
    /// ticks after its observation while the robot executes what it has (as a robot on the wall clock
    /// does while its request is served), so runs stay reproducible. 0: at once.
    int lockstep_delay_ticks = 0;
    /// Start-up (Create's GetPolicyInfo, StartSession): a server that is unreachable or too busy to answer
    /// (UNAVAILABLE, DEADLINE_EXCEEDED) is retried with the connection's backoff for this long.
    int64_t connect_give_up_ms = 10000;
  };

  static absl::StatusOr<std::unique_ptr<RobotClient>> Create(RobotDriver* driver,
                                                             std::unique_ptr<PolicyConnection> connection,
                                                             ClientMetrics* metrics, Options options);
  ~RobotClient();

  /// Starts the session for the driver's embodiment (or the adapter's session embodiment) with its
  /// camera layout and control rate.
  absl::Status StartSession();
  /// Runs up to `max_ticks` control ticks; `on_tick` (optional) returns false to end early. Errors: the
  /// driver failed, or the session could not be started.
  absl::Status Run(int64_t max_ticks, const std::function<bool(const TickInfo&)>& on_tick = nullptr);
  /// ReportEpisode (when `report` is set) and EndSession; errors are returned but leave the client usable.
  absl::Status Finish(const mivla::v1::ReportEpisodeRequest* report);

  void RequestStop() { stop_requested_.store(true); }
  void SetOperatorStop(bool engaged);
  RobotClientStats stats() const;
  const SafetyLayer& safety() const;
  PolicyConnection& connection() { return *connection_; }

 private:
  explicit RobotClient(std::unique_ptr<RobotClientState> state, std::unique_ptr<PolicyConnection> connection);
  std::unique_ptr<RobotClientState> state_;
  std::unique_ptr<PolicyConnection> connection_;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_ROBOT_ROBOT_CLIENT_H_
