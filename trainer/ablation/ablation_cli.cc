// File: ablation_cli.cc
#include "trainer/ablation/ablation_cli.h"

#include <fnmatch.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/flag_parser.h"
#include "trainer/ablation/ablation_config.h"
#include "trainer/ablation/ablation_runner.h"
#include "trainer/ablation/child_process.h"
#include "trainer/ablation/stage_plan.h"

namespace mivla::trainer::ablation {
namespace {

namespace fs = std::filesystem;
std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

/// Checks task and embodiment names against `mivla-datagen --list` (errors name the file and field).
absl::Status CheckTasks(const AblationConfig& c, const std::string& datagen) {
  const std::string cmd = CommandLine({datagen, "--list"}) + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return absl::InternalError(absl::StrCat("cannot run ", cmd));
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  const int status = pclose(p);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (status != 0 || j.is_discarded() || !j.contains("tasks")) {
    return absl::InternalError(absl::StrCat("'", cmd, "' failed (is mivla-datagen built?)"));
  }
  std::map<std::string, std::set<std::string>> tasks;
  for (const auto& t : j["tasks"]) {
    for (const auto& e : t["embodiments"]) tasks[t["name"].get<std::string>()].insert(e.get<std::string>());
  }
  std::vector<std::string> names;
  for (const auto& [t, e] : tasks) names.push_back(t);
  auto check = [&](const std::string& field, const std::string& task, const std::string& embodiment) -> absl::Status {
    auto it = tasks.find(task);
    if (it == tasks.end()) {
      return absl::InvalidArgumentError(absl::StrCat(c.path, ": ", field, ": no task '", task, "' (have: ",
                                                     absl::StrJoin(names, ", "), ")"));
    }
    if (it->second.count(embodiment) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(c.path, ": ", field, ": ", embodiment, " cannot do '", task,
                                                     "' (", absl::StrJoin(it->second, ", "), " can)"));
    }
    return absl::OkStatus();
  };
  for (size_t i = 0; i < c.datagen.size(); ++i) {
    absl::Status s = check(absl::StrCat("datagen[", i, "].task"), c.datagen[i].task, c.datagen[i].embodiment);
    if (!s.ok()) return s;
  }
  for (size_t i = 0; i < c.eval.tasks.size(); ++i) {
    absl::Status s = check(absl::StrCat("eval.tasks[", i, "]"), c.eval.tasks[i], c.eval.embodiment);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

int AblationMain(const std::vector<std::string>& args, const std::string& self) {
  std::string config_path, only, bin_dir;
  double budget_minutes = 0;
  bool dry_run = false, help = false;
  FlagParser p("mivla-train ablation --config FILE [--budget-minutes M] [--only GLOB] [--dry-run]");
  p.AddString("config", &config_path, "ablation configuration (JSON; trainer/configs/ablation_*.json)");
  p.AddDouble("budget-minutes", &budget_minutes, "stop cleanly after this many minutes (0: no limit)");
  p.AddString("only", &only, "run only stages whose name matches this glob, e.g. 'data/*' or 'eval/b/*'");
  p.AddBool("dry-run", &dry_run, "print the stages, their status and commands; run nothing");
  p.AddString("bin-dir", &bin_dir, "folder of mivla-datagen, mivla-server, mivla-eval (default: beside this binary)",
              false);
  p.AddBool("help", &help, "this text", false);
  auto usage = [&](const std::string& error) {
    std::fprintf(stderr, "mivla-train ablation: %s\n%s", error.c_str(), p.Usage().c_str());
    return 2;
  };
  if (absl::Status s = p.Parse(args); !s.ok()) return usage(std::string(s.message()));
  if (help) {
    std::printf("%s", p.Usage().c_str());
    return 0;
  }
  if (!p.positional().empty()) return usage(absl::StrCat("unexpected argument '", p.positional()[0], "'"));
  if (config_path.empty()) return usage("--config FILE is required");
  if (budget_minutes < 0) return usage("--budget-minutes: must be >= 0");
  absl::StatusOr<AblationConfig> config = LoadAblationConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "mivla-train ablation: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (bin_dir.empty()) bin_dir = fs::path(self).parent_path().string();
  Binaries bins;
  bins.datagen = (fs::path(bin_dir) / "mivla-datagen").string();
  bins.train = self;
  bins.server = (fs::path(bin_dir) / "mivla-server").string();
  bins.eval = (fs::path(bin_dir) / "mivla-eval").string();
  for (const std::string& b : {bins.datagen, bins.server, bins.eval}) {
    if (access(b.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "mivla-train ablation: %s is not an executable file (build it, or pass --bin-dir)\n",
                   b.c_str());
      return 2;
    }
  }
  if (absl::Status s = CheckTasks(*config, bins.datagen); !s.ok()) {
    std::fprintf(stderr, "mivla-train ablation: %s\n", std::string(s.message()).c_str());
    return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  absl::StatusOr<Plan> plan = BuildPlan(*config, bins);
  if (!plan.ok()) {
    std::fprintf(stderr, "mivla-train ablation: %s\n", std::string(plan.status().message()).c_str());
    return 2;
  }
  bool matched = only.empty();
  for (const Stage& s : plan->stages) matched = matched || fnmatch(only.c_str(), s.name.c_str(), 0) == 0;
  if (!matched) return usage(absl::StrCat("--only '", only, "' matches no stage"));

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  RunnerOptions o;
  o.budget_s = budget_minutes * 60;
  o.only = only;
  o.dry_run = dry_run;
  o.interrupted = &g_interrupted;
  absl::StatusOr<RunnerOutcome> r = RunAblation(*config, *plan, o);
  if (!r.ok()) {
    std::fprintf(stderr, "mivla-train ablation: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  if (dry_run) return 0;
  return r->left.empty() ? 0 : 3;
}

}  // namespace mivla::trainer::ablation
