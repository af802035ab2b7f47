// File: eval_main.cc
// mivla-eval: closed-loop evaluation of the policy a mivla-server serves, in the simulator.
//
//   build/bin/mivla-eval --server HOST:PORT --embodiment piper --task all --episodes 10 --mode easy
//       --seed 1000 --parallel 2 --json --out /tmp/eval
//
// Episode i of a task uses seed S + i. Per task: success rate, mean completeness, mean time to success;
// each episode is reported to the server (ReportEpisode). --json prints the results on standard output;
// --out DIR writes eval.json and eval.png (sample camera frames, end-effector traces). Progress with ETA
// goes to standard error (a bar on a terminal, a line per episode otherwise; --quiet: none). An episode
// that errors is recorded (status "error") and the evaluation goes on; the exit status is 1 only when
// every episode errored (see --help).
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/eval/eval_plot.h"
#include "client/eval/evaluator.h"
#include "client/robot/robot_config.h"
#include "client/tools/exit_code.h"
#include "core/util/flag_parser.h"
#include "core/util/progress_bar.h"
#include "client/tools/run_summary.h"
#include "core/util/log.h"
#include "core/util/status_macros.h"

namespace mivla::client {
namespace {

nlohmann::json ReportJson(const EvalReport& r, const nlohmann::json& meta) {
  nlohmann::json j = meta;
  nlohmann::json tasks = nlohmann::json::array();
  int n = 0, s = 0;
  double completeness = 0;
  for (const TaskReport& t : r.tasks) {
    nlohmann::json tj;
    tj["task"] = t.task;
    tj["episodes"] = t.episodes;
    tj["errors"] = t.errors;
    tj["successes"] = t.successes;
    tj["success_rate"] = t.success_rate;
    tj["completeness"] = t.completeness;
    tj["mean_time_to_success_s"] = t.mean_time_to_success_s >= 0 ? nlohmann::json(t.mean_time_to_success_s) : nlohmann::json();
    nlohmann::json eps = nlohmann::json::array();
    for (const EpisodeResult& e : t.results) eps.push_back(EpisodeJson(e));
    tj["results"] = eps;
    tasks.push_back(tj);
    n += t.episodes;
    s += t.successes;
    completeness += t.completeness * t.episodes;
  }
  j["tasks"] = tasks;
  j["overall"] = {{"episodes", n}, {"errors", r.errors}, {"successes", s}, {"success_rate", n ? static_cast<double>(s) / n : 0.0},
                  {"completeness", n ? completeness / n : 0.0}};
  j["wall_s"] = r.wall_s;
  return j;
}

// Printed after the flag list by --help.
constexpr char kHelpEpilogue[] =
    "\n"
    "An episode that cannot run (server unreachable, session refused) is recorded in the results with\n"
    "status \"error\" and its message, counted in \"errors\" (per task and overall) and left out of the\n"
    "metrics; the next seed runs. Exit status: 0 when at least one episode ran, 1 when every episode\n"
    "errored (the results are still printed / written), 2 for bad flags or configuration.\n";

absl::Status Main(int argc, char** argv) {
  std::string server, embodiment, task = "all", mode = "easy", out, config;
  int64_t episodes = 10, seed = 0, parallel = 1, act_seed = 0, max_steps = 0;
  int64_t delay_ticks = 0;
  bool json = false, real_time = false, quiet = false, realtime_chunking = true;
  FlagParser fs("mivla-eval --server HOST:PORT --embodiment E --task T|all --episodes N --mode easy|hard --seed S "
             "[--json] [--parallel P] [--out DIR]");
  fs.AddString("server", &server, "policy server HOST:PORT (required)");
  fs.AddString("embodiment", &embodiment, "piper, arx5, locoman or aloha (required)");
  fs.AddString("task", &task, "a task name, a comma-separated list, or all (every task the embodiment can do)");
  fs.AddInt("episodes", &episodes, "episodes per task");
  fs.AddString("mode", &mode, "easy or hard");
  fs.AddInt("seed", &seed, "episode i uses seed S + i");
  fs.AddInt("parallel", &parallel, "robots running at once against the server");
  fs.AddBool("json", &json, "print the results as JSON on standard output");
  fs.AddString("out", &out, "directory for eval.json and eval.png");
  fs.AddString("config", &config, "robot configuration (default: client/config/<embodiment>.json)");
  fs.AddBool("real-time", &real_time, "run the robots on the wall clock (default: as fast as possible, lockstep)");
  fs.AddInt("act-seed", &act_seed, "sampling seed for Act (0: server-chosen noise)");
  fs.AddBool("quiet", &quiet, "no progress bar");
  fs.AddInt("max-steps", &max_steps, "end each episode after this many control steps (0: the task's limit)");
  fs.AddBool("realtime-chunking", &realtime_chunking,
             "send committed steps when the server offers real-time chunking (--no-realtime-chunking: never; "
             "the config's scheduler.realtime_chunking can also switch it off)");
  fs.AddInt("lockstep-delay-ticks", &delay_ticks,
            "lockstep: emulate an inference delay of this many control ticks (a chunk is queued that many ticks "
            "after its observation; the robot executes what it has meanwhile)");
  ASSIGN_OR_RETURN(const bool helped, fs.ParseFlagsOrPrintHelp(argc, argv, kHelpEpilogue));
  if (helped) return absl::OkStatus();
  if (server.empty()) return absl::InvalidArgumentError("--server HOST:PORT is required");
  if (embodiment.empty()) return absl::InvalidArgumentError("--embodiment is required (piper, arx5, locoman, aloha)");
  if (server.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--server '", server, "': want HOST:PORT"));
  }
  absl::StatusOr<action::Embodiment> parsed = action::ParseEmbodiment(embodiment);
  if (!parsed.ok()) return absl::InvalidArgumentError(absl::StrCat("--embodiment: ", parsed.status().message()));
  const action::Embodiment emb = *parsed;
  if (!action::IsRobot(emb)) return absl::InvalidArgumentError("--embodiment: the sim evaluation drives robots only");
  if (mode != "easy" && mode != "hard") return absl::InvalidArgumentError(absl::StrCat("--mode '", mode, "': want easy or hard"));
  if (episodes < 1 || episodes > 100000) return absl::InvalidArgumentError("--episodes: want 1..100000");
  if (parallel < 1 || parallel > 64) return absl::InvalidArgumentError("--parallel: want 1..64");
  if (delay_ticks < 0 || delay_ticks > 1000) return absl::InvalidArgumentError("--lockstep-delay-ticks: want 0..1000");
  ASSIGN_OR_RETURN(RobotConfig cfg, LoadRobotConfig(config.empty() ? DefaultRobotConfigPath(emb) : config));
  if (cfg.embodiment != emb) return absl::InvalidArgumentError("--config is for another embodiment");
  SetLogQuiet(true);

  EvalOptions o;
  o.tasks = task == "all" ? TasksFor(emb) : absl::StrSplit(task, ',', absl::SkipEmpty());
  o.episodes = static_cast<int>(episodes);
  o.seed = static_cast<uint64_t>(seed);
  o.parallel = static_cast<int>(parallel);
  o.episode = EpisodeFromConfig(cfg, server, real_time);
  o.episode.driver.mode = mode == "hard" ? sim::Mode::kHard : sim::Mode::kEasy;
  o.episode.max_steps = max_steps;
  o.episode.client.seed = static_cast<uint64_t>(act_seed);
  o.episode.client.scheduler.realtime_chunking = cfg.scheduler.realtime_chunking && realtime_chunking;
  o.episode.client.lockstep_delay_ticks = static_cast<int>(delay_ticks);
  ProgressBar bar({static_cast<int>(o.tasks.size() * episodes), !quiet});
  o.progress = [&bar](int done, int) { bar.Update(done); };
  bar.Update(0);
  absl::StatusOr<EvalReport> evaluated = RunEvaluation(o);
  bar.Finish();
  if (!evaluated.ok()) return evaluated.status();
  const EvalReport& report = *evaluated;

  const nlohmann::json meta = {{"server", server}, {"embodiment", std::string(action::EmbodimentName(emb))},
                               {"mode", mode}, {"seed", seed}, {"episodes_per_task", episodes},
                               {"parallel", parallel}, {"max_steps", max_steps}};
  const nlohmann::json j = ReportJson(report, meta);
  if (json) std::printf("%s\n", j.dump(1).c_str());
  if (!out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("--out '", out, "': ", ec.message()));
    std::ofstream(out + "/eval.json") << j.dump(1) << "\n";
    RETURN_IF_ERROR(WriteEvalPng(report,
                                 absl::StrFormat("mivla-eval %s, %s mode, %d episodes per task, seeds %d..", embodiment,
                                                 mode, episodes, seed),
                                 out + "/eval.png"));
  }
  if (!json) {
    for (const TaskReport& t : report.tasks) {
      std::fprintf(stderr, "%-20s success %d/%d  completeness %.2f  time to success %s%s\n", t.task.c_str(), t.successes,
                   t.episodes, t.completeness,
                   t.mean_time_to_success_s >= 0 ? absl::StrFormat("%.1f s", t.mean_time_to_success_s).c_str() : "-",
                   t.errors > 0 ? absl::StrFormat("  (%d errored)", t.errors).c_str() : "");
    }
  }
  for (const TaskReport& t : report.tasks) {
    for (const EpisodeResult& e : t.results) {
      if (!e.error.empty()) LogWarning("mivla-eval", absl::StrCat(t.task, " seed ", e.seed, " errored: ", e.error));
    }
  }
  if (report.episodes == 0) {
    return absl::UnavailableError(absl::StrCat("every episode errored (", report.errors, "), e.g. ",
                                               report.tasks.front().results.front().error));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace mivla::client

int main(int argc, char** argv) { return mivla::client::ExitCode("mivla-eval", mivla::client::Main(argc, argv)); }
