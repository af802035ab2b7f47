// File: mivla_demo.cc
// mivla-demo: `make demo`'s main job. Starts mivla-server on the bundled checkpoint (models/, or
// --model-dir; a randomly initialised tiny model when there is none, said loudly), runs simulated PiPER,
// ARX-5, LocoMan and ALOHA robots on their tasks at the same time against it, prints per robot and task
// the success, completeness, time to success and round-trip latency, and writes demo.json, demo.md and
// demo.png to --out. Progress with ETA on standard error.
//
//   build/bin/mivla-demo [--episodes 3] [--model-dir DIR | --random-init] [--out build/demo] [--mode easy]
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/tools/exit_code.h"
#include "core/util/bundled_models.h"
#include "core/util/flag_parser.h"
#include "core/util/log.h"
#include "core/util/progress_bar.h"
#include "core/util/status_macros.h"
#include "tools/demo/demo_report.h"
#include "tools/demo/demo_run.h"

namespace mivla::demo {
namespace {

namespace fs = std::filesystem;

std::string SiblingBinary(const std::string& name) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? name : (self.parent_path() / name).string();
}

absl::Status Main(int argc, char** argv) {
  std::string model_dir, out = "build/demo", mode = "easy", server_bin = SiblingBinary("mivla-server");
  int64_t episodes = 3, seed = 100000, max_steps = 0;
  bool random_init = false, quiet = false;
  FlagParser fs("mivla-demo [--episodes N] [--model-dir DIR | --random-init] [--out DIR] [--mode easy|hard]");
  fs.AddString("model-dir", &model_dir,
               "checkpoint folder to serve (default: $MIVLA_MODEL_DIR or the repository's models/)", false);
  fs.AddBool("random-init", &random_init, "serve a randomly initialised tiny model instead");
  fs.AddInt("episodes", &episodes, "episodes per robot and task");
  fs.AddInt("seed", &seed, "episode i uses seed S + i");
  fs.AddString("mode", &mode, "easy or hard");
  fs.AddInt("max-steps", &max_steps, "end each episode after this many control steps (0: the task's limit)");
  fs.AddString("out", &out, "folder for demo.json, demo.md, demo.png and server.log");
  fs.AddString("server-bin", &server_bin, "the mivla-server binary");
  fs.AddBool("quiet", &quiet, "no progress lines");
  ASSIGN_OR_RETURN(const bool helped, fs.ParseFlagsOrPrintHelp(argc, argv));
  if (helped) return absl::OkStatus();
  if (mode != "easy" && mode != "hard")
    return absl::InvalidArgumentError(absl::StrCat("--mode '", mode, "': want easy or hard"));
  if (episodes < 1 || episodes > 1000) return absl::InvalidArgumentError("--episodes: want 1..1000");
  if (random_init && !model_dir.empty())
    return absl::InvalidArgumentError("--model-dir and --random-init exclude each other");
  if (!model_dir.empty() && !HoldsCheckpoint(model_dir)) {
    return absl::InvalidArgumentError(absl::StrCat("--model-dir '", model_dir, "': no *.mivla checkpoint there"));
  }
  if (!random_init && model_dir.empty()) {
    const std::string bundled = BundledModelDir();
    if (HoldsCheckpoint(bundled)) {
      model_dir = bundled;
    } else {
      std::fprintf(stderr,
                   "mivla-demo: no bundled checkpoint (*.mivla in %s): serving a RANDOMLY INITIALISED tiny model; "
                   "its robots are not expected to succeed\n",
                   bundled.c_str());
    }
  }
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--out '", out, "': ", ec.message()));
  const std::string robots_log = (fs::path(out) / "robots.log").string();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_file(std::fopen(robots_log.c_str(), "w"), &std::fclose);
  if (log_file == nullptr) return absl::InvalidArgumentError(absl::StrCat("cannot write '", robots_log, "'"));
  SetLogFile(log_file.get());  // the robots' warnings (safety clamps, reconnects) go there, not to the terminal

  DemoOptions o;
  o.server_bin = server_bin;
  o.model_dir = model_dir;
  o.out_dir = out;
  o.episodes = static_cast<int>(episodes);
  o.seed = static_cast<uint64_t>(seed);
  o.hard = mode == "hard";
  o.max_steps = max_steps;
  int total = 0;
  std::vector<std::string> names;
  for (const DemoRobot& r : o.robots) {
    total += static_cast<int>(r.tasks.size()) * o.episodes;
    names.push_back(absl::StrCat(RobotName(r.embodiment), " (", absl::StrJoin(r.tasks, ", "), ")"));
  }
  std::fprintf(stderr, "mivla-demo: mivla-server on %s; %zu robots at once, %d episode%s per task each: %s\n",
               model_dir.empty() ? "a random-init tiny model" : model_dir.c_str(), o.robots.size(), o.episodes,
               o.episodes == 1 ? "" : "s", absl::StrJoin(names, "; ").c_str());
  ProgressBar bar({total, !quiet});
  o.progress = [&bar](int done, int) { bar.Update(done); };
  absl::StatusOr<DemoReport> report = RunDemo(o);
  bar.Finish();
  SetLogFile(nullptr);
  if (!report.ok()) return report.status();

  const std::string command =
      absl::StrCat("build/bin/mivla-demo --episodes ", episodes, " --seed ", seed, " --mode ", mode,
                   random_init ? " --random-init" : "", max_steps > 0 ? absl::StrCat(" --max-steps ", max_steps) : "",
                   " --out ", out);
  std::ofstream(fs::path(out) / "demo.json") << DemoJson(*report, o).dump(1) << "\n";
  std::ofstream(fs::path(out) / "demo.md") << DemoMarkdown(*report, o, command, "demo.png");
  RETURN_IF_ERROR(WriteDemoPng(*report, (fs::path(out) / "demo.png").string()));
  std::printf("\nmodel: %s %s (%s)\n\n%s\n", report->config_name.c_str(), report->model_version.c_str(),
              report->random_init ? "random init" : report->model.c_str(), DemoTable(*report).c_str());
  std::printf(
      "%.0f s; server drained and exited with status %d\nreport %s/demo.md, picture %s/demo.png, JSON %s/demo.json; "
      "logs %s/server.log, %s/robots.log\n",
      report->wall_s, report->server_exit, out.c_str(), out.c_str(), out.c_str(), out.c_str(), out.c_str());
  int episodes_run = 0;
  for (const RobotReport& r : report->robots) episodes_run += r.eval.episodes;
  if (episodes_run == 0)
    return absl::UnavailableError(
        absl::StrCat("every episode errored; see ", out, "/demo.json and ", out, "/server.log"));
  return absl::OkStatus();
}

}  // namespace
}  // namespace mivla::demo

int main(int argc, char** argv) { return mivla::client::ExitCode("mivla-demo", mivla::demo::Main(argc, argv)); }
