// File: server_bench_deadline.h
// Deadline load for mivla-bench-server (issue 12): robots at mixed control rates (10, 25, 50 Hz in
// turn) that execute their chunks in real time and run out of actions unless the next chunk arrives
// first. Each robot executes `exec_steps` steps of a chunk (at most the chunk) and asks for the next one
// (Observe, then Act with deadline_us = the moment it runs out) when `lead_steps` remain, so a 10 Hz
// robot leaves the server 800 ms and a 50 Hz one 160 ms with the defaults. A request misses when its
// chunk arrives after the robot ran out, or fails (DEADLINE_EXCEEDED drop, RESOURCE_EXHAUSTED, other);
// a robot that ran out asks again at once, with its (past) run-out as the deadline. Robot time is the
// steady clock since the run began plus 1 s, so it runs at the server's pace.
// A robot is stalled while it has no actions left: from its run-out until a chunk with steps still ahead
// arrives (one that comes after its last step ends no stall). The rows also give the share of robot-time
// in the window spent stalled and the longest stall, because the miss rate counts requests, and a robot
// left waiting for seconds asks only once meanwhile.
//
// Ownership: RunDeadlineLoad owns its threads and channels and joins them before returning.
// Thread-safety: RunDeadlineLoad may be called from any thread; calls are independent.
#ifndef MIVLA_BENCH_SERVER_BENCH_DEADLINE_H_
#define MIVLA_BENCH_SERVER_BENCH_DEADLINE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "nlohmann/json.hpp"

namespace mivla::bench {

struct DeadlineLoadOptions {
  int port = 0;
  int robots = 1;
  std::vector<double> rates_hz = {10, 25, 50};  // robot i runs at rates_hz[i % size]
  int exec_steps = 16;  // steps of each chunk executed (at most the chunk's length)
  int lead_steps = 8;   // ask for the next chunk when this many steps remain
  double warmup_s = 1.5;
  double duration_s = 6.0;
  std::vector<action::Embodiment> embodiments;  // robot i gets embodiments[i % size]
  double call_timeout_s = 30.0;
  // The server's metrics text (Prometheus); set: read at the window's start and end for the server's
  // own counts over it (DeadlineLoadResult::server_*).
  std::function<std::string()> scrape;
};

struct RateMisses {
  int64_t requests = 0;
  int64_t misses = 0;
  int robots = 0;
  double stalled_s = 0;      // robot-seconds in the window without actions, summed over these robots
  double stalled_share = 0;  // stalled_s / (robots x window)
};

struct DeadlineLoadResult {
  int robots = 0;
  double offered_per_s = 0;   // requests the robots would send if every chunk came at once
  double served_per_s = 0;    // chunks received in the window
  int64_t requests = 0;       // requests answered in the window
  int64_t misses = 0;         // late chunks + failed requests
  int64_t late = 0;           // OK but after the robot ran out
  int64_t dropped = 0;        // DEADLINE_EXCEEDED
  int64_t refused = 0;        // RESOURCE_EXHAUSTED
  int64_t other_errors = 0;
  std::string first_error;
  double miss_rate = 0;
  double p50_ms = 0;          // Observe + Act round trip of answered requests
  double p99_ms = 0;
  std::map<int, RateMisses> by_rate;  // key: control rate in Hz (rounded)
  double stalled_share = 0;           // robot-time in the window without actions / (started robots x window)
  double longest_stall_ms = 0;        // one robot's longest time without actions inside the window
  // The server's view of the window (with `scrape`; -1 without): Acts it made late (mivla_late_acts_total:
  // the robot asked in time and ran out before the answer, or was dropped) and its mean decode batch.
  double server_late_acts = -1;
  double server_decode_batch_mean = -1;
};

/// Offered requests per second of one robot at `rate_hz` when every chunk comes at once.
double RobotRequestsPerSecond(const DeadlineLoadOptions& options, double rate_hz);

/// Runs the load; an error only when no robot could start a session.
absl::StatusOr<DeadlineLoadResult> RunDeadlineLoad(const DeadlineLoadOptions& options);

struct DeadlineSweepOptions {
  std::vector<double> loads;   // x capacity_per_s
  double capacity_per_s = 0;   // chunks per second the server sustains (the sweep's best batched row)
  double warmup_s = 1.5;
  double duration_s = 6.0;
  std::vector<action::Embodiment> embodiments;
};
/// Starts a fresh server with the given --batch-policy ("fifo" / "edf"), SERVING; its port and a stop.
struct BenchServer {
  int port = 0;
  std::function<void()> stop;
  std::function<std::string()> scrape;  // its metrics text; may be null
};
using StartServerFn = std::function<absl::StatusOr<BenchServer>(const std::string& policy)>;

/// For each load, FIFO then EDF at the same number of robots (enough for load x capacity requests per
/// second). JSON: capacity_per_s, robot model, rows (load, policy, robots, offered/served per s,
/// requests, misses, miss_rate, late, dropped, refused, other_errors, p50/p99, by_rate_hz (requests,
/// misses, robots, stalled_share), stalled_share, longest_stall_ms, and the server's server_late_acts
/// and server_decode_batch_mean) and per load edf_over_fifo_misses. Progress
/// on stderr.
absl::StatusOr<nlohmann::json> RunDeadlineSweep(const DeadlineSweepOptions& options, const StartServerFn& start);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_DEADLINE_H_
