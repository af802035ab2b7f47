// File: flags.cc
#include "trainer/datagen/flags.h"

#include <algorithm>
#include <map>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"
#include "sim/task.h"

namespace mivla::datagen {
namespace {

using action::Embodiment;

struct NamedEmbodiment {
  const char* name;
  Embodiment embodiment;
};
constexpr NamedEmbodiment kCliNames[] = {{"human", Embodiment::kHuman},
                                         {"piper", Embodiment::kPiper},
                                         {"arx5", Embodiment::kArx5},
                                         {"locoman", Embodiment::kLocoman},
                                         {"aloha", Embodiment::kAlohaAgilex}};

std::string TaskNames() {
  std::vector<std::string> names;
  for (const sim::Task* t : sim::AllTasks()) names.push_back(t->spec().name);
  return absl::StrJoin(names, ", ");
}

absl::Status FlagError(const std::string& flag, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", reason));
}

template <typename T>
absl::StatusOr<T> ParseNumber(const std::string& flag, const std::string& text, T lo, T hi) {
  T v{};
  if (!absl::SimpleAtoi(text, &v)) {
    return FlagError(flag, absl::StrCat("'", text, "' is not a whole number"));
  }
  if (v < lo || v > hi) return FlagError(flag, absl::StrCat(v, " is out of range [", lo, ", ", hi, "]"));
  return v;
}

}  // namespace

std::string CliEmbodimentName(Embodiment e) {
  for (const NamedEmbodiment& n : kCliNames) {
    if (n.embodiment == e) return n.name;
  }
  return "unknown";
}

absl::StatusOr<Embodiment> ParseCliEmbodiment(const std::string& name) {
  std::vector<std::string> valid;
  for (const NamedEmbodiment& n : kCliNames) {
    if (name == n.name) return n.embodiment;
    valid.push_back(n.name);
  }
  return FlagError("--embodiment", absl::StrCat("unknown embodiment '", name, "' (valid: ", absl::StrJoin(valid, ", "), ")"));
}

absl::StatusOr<std::vector<std::string>> TaskEmbodimentNames(const std::string& task) {
  const sim::Task* t = sim::FindTask(task);
  if (t == nullptr) return FlagError("--task", absl::StrCat("unknown task '", task, "' (valid: ", TaskNames(), ")"));
  std::vector<std::string> names;
  for (Embodiment e : sim::SupportedEmbodiments(*t)) names.push_back(CliEmbodimentName(e));
  return names;
}

std::string ListJson() {
  nlohmann::json tasks = nlohmann::json::array();
  for (const sim::Task* t : sim::AllTasks()) {
    nlohmann::json embodiments = nlohmann::json::array();
    for (Embodiment e : sim::SupportedEmbodiments(*t)) embodiments.push_back(CliEmbodimentName(e));
    tasks.push_back({{"name", t->spec().name},
                     {"embodiments", embodiments},
                     {"two_arm", t->spec().two_arm},
                     {"step_limit", t->spec().step_limit}});
  }
  return nlohmann::json{{"tasks", tasks}}.dump();
}

std::string DatagenUsage() {
  return "usage:\n"
         "  mivla-datagen --task T --embodiment E --episodes N --out DIR [--mode easy|hard] [--seed S]\n"
         "                [--workers K] [--max-attempts A] [--no-progress]\n"
         "                [--policy-server HOST:PORT [--robot-config FILE] [--takeover-ticks MIN:MAX]]\n"
         "  mivla-datagen --list\n"
         "  mivla-datagen --preview --out FILE.png [--seed S] [--task T] [--scale F]\n"
         "embodiments: human, piper, arx5, locoman, aloha; tasks: " +
         TaskNames() + "\n";
}

namespace {

// --policy-server, --robot-config, --takeover-ticks (expert takeover: the policy drives, the expert finishes).
absl::Status ParseTakeoverFlags(std::map<std::string, std::string>& values, GenerateOptions* g) {
  if (!values.count("--policy-server")) {
    for (const char* flag : {"--robot-config", "--takeover-ticks"}) {
      if (values.count(flag)) return FlagError(flag, "only with --policy-server");
    }
    return absl::OkStatus();
  }
  g->policy_server = values["--policy-server"];
  if (g->policy_server.find(':') == std::string::npos) {
    return FlagError("--policy-server", absl::StrCat("'", g->policy_server, "': expected HOST:PORT"));
  }
  if (g->embodiment == Embodiment::kHuman) return FlagError("--policy-server", "a policy drives robots, not the human");
  if (values.count("--robot-config")) g->robot_config = values["--robot-config"];
  if (values.count("--takeover-ticks")) {
    const std::string& v = values["--takeover-ticks"];
    const size_t colon = v.find(':');
    int lo = 0, hi = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(v.substr(0, colon), &lo) ||
        !absl::SimpleAtoi(v.substr(colon + 1), &hi) || lo < 1 || hi < lo || hi > 100000) {
      return FlagError("--takeover-ticks", absl::StrCat("'", v, "': expected MIN:MAX with 1 <= MIN <= MAX"));
    }
    g->takeover_min_ticks = lo;
    g->takeover_max_ticks = hi;
  }
  return absl::OkStatus();
}

using FlagValues = std::map<std::string, std::string>;
using Switches = std::map<std::string, bool>;

// The command line as flag -> value (--flag V or --flag=V) and the switches given; unknown flags, stray
// arguments, a missing value and a flag given twice are errors.
absl::Status SplitFlags(const std::vector<std::string>& args, FlagValues* values, Switches* switches) {
  static const std::vector<std::string> kValued = {"--task",  "--embodiment",    "--episodes",     "--mode",
                                                   "--seed",  "--out",           "--workers",      "--max-attempts",
                                                   "--scale", "--policy-server", "--robot-config", "--takeover-ticks"};
  static const std::vector<std::string> kSwitches = {"--list", "--preview", "--no-progress", "--help"};
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    bool has_value = false;
    if (const size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    if (std::find(kSwitches.begin(), kSwitches.end(), flag) != kSwitches.end()) {
      if (has_value) return FlagError(flag, "takes no value");
      (*switches)[flag] = true;
      continue;
    }
    if (std::find(kValued.begin(), kValued.end(), flag) == kValued.end()) {
      return FlagError(flag, flag.rfind("-", 0) == 0 ? "unknown flag" : "unexpected argument");
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return FlagError(flag, "needs a value");
      value = args[++i];
    }
    if (values->count(flag)) return FlagError(flag, "given twice");
    (*values)[flag] = value;
  }
  return absl::OkStatus();
}

// --preview's flags: --out FILE.png (required), --task, --scale.
absl::Status ParsePreviewFlags(FlagValues& values, PreviewOptions* p) {
  if (!values.count("--out")) return FlagError("--out", "required with --preview (a .png file)");
  p->out_png = values["--out"];
  if (p->out_png.size() < 4 || p->out_png.substr(p->out_png.size() - 4) != ".png") {
    return FlagError("--out", absl::StrCat("'", p->out_png, "' must end in .png"));
  }
  if (values.count("--task")) {
    absl::StatusOr<std::vector<std::string>> known = TaskEmbodimentNames(values["--task"]);
    if (!known.ok()) return known.status();
    p->task = values["--task"];
  }
  if (values.count("--scale")) {
    double scale = 0;
    if (!absl::SimpleAtod(values["--scale"], &scale) || !(scale >= 0.25 && scale <= 2.0)) {
      return FlagError("--scale", absl::StrCat("'", values["--scale"], "': expected a number in [0.25, 2]"));
    }
    p->scale = scale;
  }
  return absl::OkStatus();
}

// --task and --embodiment (the task must support it).
absl::Status ParseTaskAndEmbodiment(FlagValues& values, GenerateOptions* g) {
  g->task = values["--task"];
  absl::StatusOr<std::vector<std::string>> supported = TaskEmbodimentNames(g->task);
  if (!supported.ok()) return supported.status();
  absl::StatusOr<Embodiment> e = ParseCliEmbodiment(values["--embodiment"]);
  if (!e.ok()) return e.status();
  g->embodiment = *e;
  const std::string cli_name = CliEmbodimentName(*e);
  if (std::find(supported->begin(), supported->end(), cli_name) == supported->end()) {
    return FlagError("--embodiment", absl::StrCat("task '", g->task, "' does not support '", cli_name,
                                                  "' (it supports: ", absl::StrJoin(*supported, ", "), ")"));
  }
  return absl::OkStatus();
}

// Generation's flags: --task, --embodiment, --episodes, --out (required), --mode, --workers,
// --max-attempts, --no-progress and expert takeover's.
absl::Status ParseGenerateFlags(FlagValues& values, Switches& switches, GenerateOptions* g) {
  if (values.count("--scale")) return FlagError("--scale", "only with --preview");
  for (const char* required : {"--task", "--embodiment", "--episodes", "--out"}) {
    if (!values.count(required)) return FlagError(required, "required (see --help)");
  }
  RETURN_IF_ERROR(ParseTaskAndEmbodiment(values, g));
  ASSIGN_OR_RETURN(g->episodes, ParseNumber<int>("--episodes", values["--episodes"], 1, 1000000));
  if (values.count("--mode")) {
    const std::string& m = values["--mode"];
    if (m != "easy" && m != "hard") return FlagError("--mode", absl::StrCat("'", m, "': expected 'easy' or 'hard'"));
    g->mode = m == "hard" ? sim::Mode::kHard : sim::Mode::kEasy;
  }
  g->out_dir = values["--out"];
  if (g->out_dir.empty()) return FlagError("--out", "empty directory name");
  g->workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (values.count("--workers")) {
    ASSIGN_OR_RETURN(g->workers, ParseNumber<int>("--workers", values["--workers"], 1, 256));
  }
  if (values.count("--max-attempts")) {
    ASSIGN_OR_RETURN(g->max_attempts, ParseNumber<int>("--max-attempts", values["--max-attempts"], 1, 1000));
  }
  g->progress = !switches["--no-progress"];
  return ParseTakeoverFlags(values, g);
}

}  // namespace

absl::StatusOr<DatagenFlags> ParseDatagenFlags(const std::vector<std::string>& args) {
  FlagValues values;
  Switches switches;
  RETURN_IF_ERROR(SplitFlags(args, &values, &switches));
  DatagenFlags f;
  if (switches["--help"]) {
    f.command = DatagenFlags::Command::kHelp;
    return f;
  }
  if (switches["--list"] && switches["--preview"]) return FlagError("--list", "cannot be combined with --preview");
  if (values.count("--seed")) {
    ASSIGN_OR_RETURN(const uint64_t seed, ParseNumber<uint64_t>("--seed", values["--seed"], 0, UINT64_MAX));
    f.generate.seed = f.preview.seed = seed;
  }
  if (switches["--list"]) {
    f.command = DatagenFlags::Command::kList;
    return f;
  }
  if (switches["--preview"]) {
    f.command = DatagenFlags::Command::kPreview;
    RETURN_IF_ERROR(ParsePreviewFlags(values, &f.preview));
    return f;
  }
  RETURN_IF_ERROR(ParseGenerateFlags(values, switches, &f.generate));
  return f;
}

}  // namespace mivla::datagen
