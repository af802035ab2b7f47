// mivla-bench-sim: simulation and rendering throughput of the MuJoCo task suite on this CPU, per
// embodiment (issue 4). For each embodiment one representative task's expert runs for --steps control
// steps (20 physics steps of 2 ms each, IK included for robots) without rendering, then every camera of
// the embodiment renders --frames frames at 320x240 through headless EGL (llvmpipe without a GPU).
//
//   mivla-bench-sim [--json] [--steps 400] [--frames 60] [--out FILE]
//
// Prints a table (or, with --json, one JSON object) and writes the JSON to --out when given:
//   {"cpu": "...", "threads": 1, "image": [320, 240], "embodiments": [{"embodiment": "PIPER",
//    "task": "...", "physics_steps_per_s": .., "control_steps_per_s": .., "realtime_factor": ..,
//    "cameras": [..], "rendered_frames_per_s": .., "episode_seconds_with_rendering": ..}]}
// Progress goes to stderr.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/util/flag_parser.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"
#include "nlohmann/json.hpp"
#include "sim/expert.h"
#include "sim/renderer.h"
#include "sim/rollout.h"

namespace {

using mivla::action::Embodiment;
using Clock = std::chrono::steady_clock;

std::string CpuName() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// One row: the expert drives `task` on `embodiment` for `steps` control steps (physics and control rates),
// then every camera renders `frames` frames.
absl::StatusOr<nlohmann::json> MeasureCase(mivla::sim::Renderer& renderer, Embodiment embodiment,
                                           const std::string& task, int64_t steps, int64_t frames) {
  const std::string name(mivla::action::EmbodimentName(embodiment));
  mivla::sim::EpisodeOptions o;
  o.task = task;
  o.embodiment = embodiment;
  o.seed = 1;
  ASSIGN_OR_RETURN(mivla::sim::EpisodeScene scene, mivla::sim::MakeEpisodeScene(o));
  mivla::sim::SimEnv& env = *scene.env;
  ASSIGN_OR_RETURN(std::unique_ptr<mivla::sim::ExpertController> expert,
                   mivla::sim::ExpertController::Create(&env, scene.task->ExpertPlan(env, scene.context)));
  const long physics0 = env.physics_steps();
  const auto t0 = Clock::now();
  for (int64_t s = 0; s < steps; ++s) RETURN_IF_ERROR(mivla::WithPrefix(expert->Step(), name + ": "));
  const double sim_s = Seconds(t0, Clock::now());
  const long physics = env.physics_steps() - physics0;
  const std::vector<std::string>& cameras = env.rig().cameras;
  const auto t1 = Clock::now();
  for (int64_t f = 0; f < frames; ++f) {
    for (const std::string& cam : cameras) {
      RETURN_IF_ERROR(renderer.Render(env.model(), const_cast<mjData*>(env.data()), cam).status());
    }
  }
  const double render_s = Seconds(t1, Clock::now());
  const double fps = static_cast<double>(frames * cameras.size()) / render_s;
  const double control_per_s = static_cast<double>(steps) / sim_s;
  nlohmann::json row;
  row["embodiment"] = name;
  row["task"] = task;
  row["physics_steps_per_s"] = physics / sim_s;
  row["control_steps_per_s"] = control_per_s;
  row["realtime_factor"] = control_per_s * mivla::sim::kControlDt;
  row["cameras"] = cameras;
  row["rendered_frames_per_s"] = fps;
  // A recorded control step renders every camera once.
  row["recorded_steps_per_s_with_rendering"] = 1.0 / (1.0 / control_per_s + cameras.size() / fps);
  return row;
}

void PrintTable(const nlohmann::json& out) {
  std::printf("%-14s %-14s %14s %14s %10s %8s %12s\n", "embodiment", "task", "physics st/s", "control st/s",
              "x realtime", "cameras", "render fps");
  for (const auto& r : out["embodiments"]) {
    std::printf("%-14s %-14s %14.0f %14.1f %10.1f %8zu %12.1f\n", r["embodiment"].get<std::string>().c_str(),
                r["task"].get<std::string>().c_str(), r["physics_steps_per_s"].get<double>(),
                r["control_steps_per_s"].get<double>(), r["realtime_factor"].get<double>(), r["cameras"].size(),
                r["rendered_frames_per_s"].get<double>());
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool json_only = false;
  int64_t steps = 400, frames = 60;
  std::string out_path;
  mivla::FlagParser flags("mivla-bench-sim [--json] [--steps 400] [--frames 60] [--out FILE]");
  flags.AddBool("json", &json_only, "print only the JSON");
  flags.AddInt("steps", &steps, "control steps per embodiment, without rendering");
  flags.AddInt("frames", &frames, "frames rendered per camera");
  flags.AddString("out", &out_path, "also write the JSON to this file", false);
  if (std::optional<int> exit = flags.ParseFlagsForMain(argc, argv, "mivla-bench-sim")) return *exit;
  if (steps <= 0 || frames <= 0) {
    std::cerr << "mivla-bench-sim: --steps and --frames must be positive\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<mivla::sim::Renderer>> renderer = mivla::sim::Renderer::Create();
  if (!renderer.ok()) {
    std::cerr << "mivla-bench-sim: " << renderer.status() << "\n";
    return 1;
  }
  const std::vector<std::pair<Embodiment, std::string>> cases = {
      {Embodiment::kPiper, "stack_blocks"},       {Embodiment::kArx5, "stack_blocks"},
      {Embodiment::kLocoman, "stack_blocks"},     {Embodiment::kAlohaAgilex, "lift_pot"},
      {Embodiment::kHuman, "stack_blocks"}};
  nlohmann::json out;
  out["cpu"] = CpuName();
  out["threads"] = 1;
  out["image"] = {mivla::sim::kImageWidth, mivla::sim::kImageHeight};
  out["steps"] = steps;
  out["frames"] = frames;
  const auto t_all = Clock::now();
  for (size_t c = 0; c < cases.size(); ++c) {
    const auto& [embodiment, task] = cases[c];
    const double elapsed = Seconds(t_all, Clock::now());
    std::cerr << "[" << c + 1 << "/" << cases.size() << "] " << mivla::action::EmbodimentName(embodiment) << " "
              << task;
    if (c > 0) std::cerr << " (ETA " << static_cast<int>(elapsed / c * (cases.size() - c)) << " s)";
    std::cerr << "\n";
    absl::StatusOr<nlohmann::json> row = MeasureCase(**renderer, embodiment, task, steps, frames);
    if (!row.ok()) {
      std::cerr << "mivla-bench-sim: " << row.status() << "\n";
      return 1;
    }
    out["embodiments"].push_back(*std::move(row));
  }
  out["seconds"] = Seconds(t_all, Clock::now());
  if (!out_path.empty()) {
    std::ofstream f(out_path);
    f << out.dump(2) << "\n";
  }
  if (json_only) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  PrintTable(out);
  return 0;
}
