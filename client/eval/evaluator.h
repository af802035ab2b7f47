// File: evaluator.h
// Closed-loop evaluation against a policy server (mivla-eval): for each task, N simulated episodes
// (episode i uses seed S + i), several robots in parallel (each its own driver, connection and session),
// every outcome reported to the server; per task the paper's three metrics: success rate, mean
// completeness, mean time to success (over successful episodes).
//
//   EvalOptions o; o.tasks = {"press_bell"}; o.episodes = 10; o.episode.connection.target = "host:port";
//   ASSIGN_OR_RETURN(EvalReport r, RunEvaluation(o));
//
// Thread-safe to call; runs its own worker threads; `progress` is called from them, serialised.
#ifndef MIVLA_CLIENT_EVAL_EVALUATOR_H_
#define MIVLA_CLIENT_EVAL_EVALUATOR_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/eval/sim_episode.h"
#include "client/robot/robot_config.h"

namespace mivla::client {

struct EvalOptions {
  std::vector<std::string> tasks;
  int episodes = 10;       // per task
  uint64_t seed = 0;       // episode i of a task uses seed + i
  int parallel = 1;        // robots at once
  SimEpisodeOptions episode;  // template: embodiment, mode, rates, connection, client options
  int traced_episodes = 8;    // per task, episodes whose end-effector traces are kept
  int sampled_frames = 4;     // head-camera frames kept of each task's first episode
  std::function<void(int done, int total)> progress;
  /// Runs one episode; empty = RunSimEpisode (tests inject faults here).
  std::function<absl::StatusOr<EpisodeResult>(const SimEpisodeOptions&)> run_episode;
};

struct TaskReport {
  std::string task;
  int episodes = 0;                        // episodes with an outcome (the metrics are over these)
  int errors = 0;                          // episodes that could not run (their results carry the error)
  int successes = 0;
  double success_rate = 0.0;
  double completeness = 0.0;               // mean
  double mean_time_to_success_s = -1.0;    // over successful episodes; -1 without any
  std::vector<EpisodeResult> results;      // seed order, errored episodes included (error set)
};

struct EvalReport {
  std::vector<TaskReport> tasks;
  int episodes = 0, errors = 0;  // over all tasks
  double wall_s = 0.0;
};

/// The episode template of an evaluation for a robot configuration against `server`: the config's sim
/// rates (wall clock when `real_time`, else lockstep), connection (timeouts raised to 30 s per call and
/// 5 s to connect: a loaded server answers slowly), scheduler, safety and adapter; robot id "mivla-eval".
SimEpisodeOptions EpisodeFromConfig(const RobotConfig& config, const std::string& server, bool real_time);

/// Tasks the embodiment can do ("all" expands to these).
std::vector<std::string> TasksFor(action::Embodiment e);

/// Errors: an unknown task or one the embodiment cannot do, or bad counts (before anything runs). An
/// episode that fails to run (e.g. the server unreachable or refusing its session) does not end the
/// evaluation: its result carries the error (TaskReport::errors counts it) and the next seed runs. With
/// parallel > 1 each robot's id is episode.client.robot_id + "-" + its slot (0..parallel-1).
absl::StatusOr<EvalReport> RunEvaluation(const EvalOptions& options);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_EVAL_EVALUATOR_H_
