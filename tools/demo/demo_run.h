// File: demo_run.h
// mivla-demo's main job: a mivla-server child on the bundled checkpoint (or a randomly initialised tiny
// model when none is given), then simulated robots of every embodiment (PiPER, ARX-5, LocoMan, ALOHA),
// each on its own tasks for a few episodes, all at the same time against that one server (one thread
// and one session per robot, the sim in lockstep with the server); per robot the paper's metrics, the
// round trip of every chunk request, and the client's holds and clamps.
//
//   DemoOptions o; o.model_dir = "models"; o.out_dir = "build/demo";
//   ASSIGN_OR_RETURN(DemoReport r, RunDemo(o));
//
// Thread-safe to call; runs its own threads; `progress` is called from them, serialised.
#ifndef MIVLA_TOOLS_DEMO_DEMO_RUN_H_
#define MIVLA_TOOLS_DEMO_DEMO_RUN_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/eval/evaluator.h"

namespace mivla::demo {

struct DemoRobot {
  action::Embodiment embodiment = action::Embodiment::kPiper;
  std::vector<std::string> tasks;
};

/// "PiPER", "ARX-5", "LocoMan", "ALOHA" (tables and pictures).
std::string RobotName(action::Embodiment e);

/// PiPER: press_bell, place_block_basket (the bundled model's two tasks); ARX-5: press_bell; LocoMan:
/// lift_pot; ALOHA: handover_block.
std::vector<DemoRobot> DefaultRobots();

struct DemoOptions {
  std::string server_bin;  // the mivla-server binary
  std::string model_dir;   // *.mivla checkpoints (--model-dir); empty: --random-init --config tiny
  std::string out_dir;     // server.log goes here
  std::vector<DemoRobot> robots = DefaultRobots();
  int episodes = 3;        // per robot and task
  uint64_t seed = 100000;  // episode i uses seed + i (the ablation's evaluation seeds)
  bool hard = false;       // the tasks' hard mode
  int64_t max_steps = 0;   // 0: each task's step limit
  std::function<void(int done, int total)> progress;
};

struct RobotReport {
  action::Embodiment embodiment = action::Embodiment::kPiper;
  client::EvalReport eval;
  std::vector<double> round_trip_ms;  // every chunk request of every episode
};

struct DemoReport {
  std::string model;          // "model_dir/<version>" or "random-init tiny"
  std::string model_version;  // GetPolicyInfo
  std::string config_name;
  bool random_init = false;
  std::vector<RobotReport> robots;
  double wall_s = 0.0;
  int server_exit = -1;  // the server's exit status after SIGTERM (0: drained cleanly)
};

/// Errors: the server does not start or answer (its log is named), a robot's tasks are invalid. An
/// episode that errors is recorded in its robot's report (EvalReport::errors) and the demo goes on.
absl::StatusOr<DemoReport> RunDemo(const DemoOptions& options);

}  // namespace mivla::demo

#endif  // MIVLA_TOOLS_DEMO_DEMO_RUN_H_
