// File: sim_episode.h
// One closed-loop episode in the simulator against a policy server: a SimDriver for the task / mode /
// seed, a RobotClient with its own connection and session, ticks until the task succeeds (plus a few
// steps) or its step limit, then ReportEpisode (success, completeness, duration) and EndSession. Used by
// mivla-robot --driver sim, mivla-eval, the benchmark and the end-to-end tests.
//
//   SimEpisodeOptions o; o.driver.task = "press_bell"; o.connection.target = "127.0.0.1:50051";
//   ASSIGN_OR_RETURN(EpisodeResult r, RunSimEpisode(o));
//
// Thread-safe: concurrent episodes each own their driver, renderer and connection (the metrics object,
// if shared, is thread-safe).
#ifndef MIVLA_CLIENT_EVAL_SIM_EPISODE_H_
#define MIVLA_CLIENT_EVAL_SIM_EPISODE_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/driver/sim_driver.h"
#include "client/robot/robot_client.h"

namespace mivla::client {

struct SimEpisodeOptions {
  SimDriverOptions driver;
  RobotClient::Options client;  // instruction defaults to the task's (seeded) phrasing
  ConnectionOptions connection;
  ClientMetrics* metrics = nullptr;  // optional, borrowed
  int steps_after_success = 5;
  int64_t max_steps = 0;             // 0: the task's step limit
  bool report = true;                // ReportEpisode at the end
  bool record_trace = false;         // per tick TCP positions (world) per arm
  int sample_frames = 0;             // head-camera frames kept, evenly over the episode (needs render)
  /// Optional, borrowed: the operator stop input (e.g. set from a signal handler); read before the first
  /// tick and after every tick and passed to RobotClient::SetOperatorStop, so a change holds the robot
  /// from the next tick.
  const std::atomic<bool>* operator_stop = nullptr;
  /// Called after every tick with the driver (tests inject faults and check states); false ends the run.
  std::function<bool(const TickInfo&, SimDriver&)> on_tick;
  /// Called with the driver once the session has ended, before the driver is destroyed (mivla-datagen's
  /// expert takeover); its error is the episode's.
  std::function<absl::Status(SimDriver&)> after_run;
};

struct EpisodeResult {
  std::string task;
  action::Embodiment embodiment = action::Embodiment::kPiper;
  uint64_t seed = 0;
  std::string instruction;
  bool success = false;
  double completeness = 0.0;
  int steps = 0;
  double time_to_success_s = -1.0;  // simulated seconds to the first success step; -1 without success
  double wall_s = 0.0;
  RobotClientStats client;
  SafetyLayer::Stats safety;
  std::vector<std::vector<Eigen::Vector3d>> trace;  // [tick][arm]
  std::vector<CameraFrame> frames;                   // sampled head-camera frames
  std::string error;  // mivla-eval: not empty when the episode could not run (status "error"); no outcome
};

absl::StatusOr<EpisodeResult> RunSimEpisode(const SimEpisodeOptions& options);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_EVAL_SIM_EPISODE_H_
