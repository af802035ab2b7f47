// File: stage_plan.cc
#include "trainer/ablation/stage_plan.h"

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "core/util/status_macros.h"
#include "trainer/train/train_config.h"

namespace mivla::trainer::ablation {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

json Sources(const std::vector<SourceRef>& refs, const std::string& out) {
  json list = json::array();
  for (const SourceRef& r : refs) {
    list.push_back({{"name", r.set}, {"path", (fs::path(out) / "data" / r.set).string()}, {"weight", r.weight}});
  }
  return list;
}

/// Fills the stage's train config fields from `cfg` after checking it as mivla-train would.
absl::Status FinishTraining(Stage& s, json cfg, const std::string& origin, const std::string& out) {
  auto parsed = ParseTrainConfig(cfg.dump(), origin);
  if (!parsed.ok()) return parsed.status();
  RETURN_IF_ERROR(ValidateTrainConfig(*parsed, origin));
  s.train_config = std::move(cfg);
  s.units = parsed->steps;
  s.final_checkpoint =
      (fs::path(s.dir) / absl::StrFormat("%s-%08d.mivla", parsed->name, parsed->steps)).string();
  s.train_config_path =
      (fs::path(out) / "configs" / absl::StrCat(StageKindName(s.kind), "_", s.variant, ".json")).string();
  return absl::OkStatus();
}

}  // namespace

const char* StageKindName(StageKind kind) {
  switch (kind) {
    case StageKind::kData: return "data";
    case StageKind::kPretrain: return "pretrain";
    case StageKind::kFinetune: return "finetune";
    case StageKind::kEval: return "eval";
    case StageKind::kReport: return "report";
  }
  return "?";
}

std::string FlatName(const std::string& stage_name) { return absl::StrReplaceAll(stage_name, {{"/", "_"}}); }

std::string HashHex(const std::string& text) { return Fnv1aHex(text); }

absl::StatusOr<Plan> BuildPlan(const AblationConfig& config, const Binaries& bins) {
  Plan plan;
  std::error_code ec;
  plan.output_dir = fs::absolute(config.output_dir, ec).lexically_normal().string();
  if (ec) return absl::InvalidArgumentError(absl::StrCat(config.path, ": output_dir: ", ec.message()));
  const std::string out = plan.output_dir;
  auto add = [&](Stage s) {
    s.log_path = (fs::path(out) / "logs" / (FlatName(s.name) + ".log")).string();
    plan.stages.push_back(std::move(s));
  };

  for (const DatagenSet& d : config.datagen) {
    Stage s;
    s.name = "data/" + d.name;
    s.kind = StageKind::kData;
    s.set = d.name;
    s.task = d.task;
    s.mode = d.mode;
    s.dir = (fs::path(out) / "data" / d.name).string();
    s.units = d.episodes;
    s.argv = {bins.datagen, "--task", d.task, "--embodiment", d.embodiment, "--episodes", std::to_string(d.episodes),
              "--out", s.dir, "--mode", d.mode, "--seed", std::to_string(d.seed), "--no-progress"};
    if (config.datagen_workers > 0) {
      s.argv.insert(s.argv.end(), {"--workers", std::to_string(config.datagen_workers)});
    }
    add(std::move(s));
  }
  auto data_deps = [](const std::vector<SourceRef>& refs) {
    std::vector<std::string> deps;
    for (const SourceRef& r : refs) deps.push_back("data/" + r.set);
    return deps;
  };

  std::vector<std::string> finetune_names;
  for (const Variant& v : config.variants) {
    std::string init;
    if (v.pretrain) {
      Stage s;
      s.name = "pretrain/" + v.name;
      s.kind = StageKind::kPretrain;
      s.variant = v.name;
      s.dir = (fs::path(out) / "pretrain" / v.name).string();
      s.deps = data_deps(v.sources);
      json cfg = config.pretrain_base;
      cfg["name"] = "pretrain-" + v.name;
      cfg["output_dir"] = s.dir;
      cfg["model"] = config.model;
      cfg["model_overrides"] = config.model_overrides;
      if (!cfg.contains("data") || !cfg["data"].is_object()) cfg["data"] = json::object();
      cfg["data"]["sources"] = Sources(v.sources, out);
      json loss = cfg.contains("loss") && cfg["loss"].is_object() ? cfg["loss"] : json::object();
      loss.merge_patch(v.loss);
      cfg["loss"] = loss;
      RETURN_IF_ERROR(FinishTraining(s, std::move(cfg),
                                     absl::StrCat(config.path, ": pretrain.base (variant ", v.name, ")"), out));
      s.argv = {bins.train, "pretrain", "--config", s.train_config_path, "--resume", "--no-progress"};
      init = s.final_checkpoint;
      add(std::move(s));
    }
    Stage f;
    f.name = "finetune/" + v.name;
    f.kind = StageKind::kFinetune;
    f.variant = v.name;
    f.dir = (fs::path(out) / "finetune" / v.name).string();
    f.deps = data_deps(config.finetune_sources);
    if (v.pretrain) f.deps.push_back("pretrain/" + v.name);
    json cfg = config.finetune_base;
    cfg["name"] = "finetune-" + v.name;
    cfg["output_dir"] = f.dir;
    if (!cfg.contains("data") || !cfg["data"].is_object()) cfg["data"] = json::object();
    cfg["data"]["sources"] = Sources(config.finetune_sources, out);
    if (v.pretrain) {
      cfg["init_checkpoint"] = init;
    } else {
      cfg["model"] = config.model;
      cfg["model_overrides"] = config.model_overrides;
    }
    RETURN_IF_ERROR(FinishTraining(f, std::move(cfg),
                                   absl::StrCat(config.path, ": finetune.base (variant ", v.name, ")"), out));
    f.argv = {bins.train, v.pretrain ? "finetune" : "pretrain", "--config", f.train_config_path, "--resume",
              "--no-progress"};
    finetune_names.push_back(f.name);
    add(std::move(f));
  }

  const EvalSpec& e = config.eval;
  std::vector<std::string> eval_names;
  for (const Variant& v : config.variants) {
    const Stage* ft = nullptr;
    for (const Stage& s : plan.stages) {
      if (s.name == "finetune/" + v.name) ft = &s;
    }
    const std::string checkpoint = ft->final_checkpoint;
    for (const std::string& task : e.tasks) {
      for (const std::string& mode : e.modes) {
        Stage s;
        s.name = absl::StrCat("eval/", v.name, "/", task, "/", mode);
        s.kind = StageKind::kEval;
        s.variant = v.name;
        s.task = task;
        s.mode = mode;
        s.deps = {"finetune/" + v.name};
        s.dir = (fs::path(out) / "eval" / v.name / task / mode).string();
        s.units = e.episodes;
        s.serve_checkpoint = checkpoint;
        s.serve_dir = (fs::path(out) / "serve" / v.name).string();
        s.argv = {bins.server, "--model-dir", s.serve_dir, "--host", "127.0.0.1",
                  "--port", "0", "--metrics-host", "127.0.0.1", "--metrics-port", "0", "--poll-interval-ms", "0"};
        s.argv.insert(s.argv.end(), e.server_flags.begin(), e.server_flags.end());
        s.eval_argv = {bins.eval, "--embodiment", e.embodiment, "--task", task, "--episodes",
                       std::to_string(e.episodes), "--mode", mode, "--seed", std::to_string(e.seed), "--parallel",
                       std::to_string(e.parallel), "--quiet", "--out", s.dir};
        s.eval_argv.insert(s.eval_argv.end(), e.eval_flags.begin(), e.eval_flags.end());
        eval_names.push_back(s.name);
        add(std::move(s));
      }
    }
  }
  Stage report;
  report.name = "report";
  report.kind = StageKind::kReport;
  report.dir = out;
  report.deps = eval_names;
  add(std::move(report));

  // Spec hashes, in order (dependencies first). Binary paths are left out: moving the build folder
  // must not redo finished work.
  std::map<std::string, std::string> hashes;
  for (Stage& s : plan.stages) {
    auto strip = [](std::vector<std::string> argv) {
      if (!argv.empty()) argv[0] = fs::path(argv[0]).filename().string();
      return argv;
    };
    json spec = {{"name", s.name}, {"argv", strip(s.argv)}, {"eval_argv", strip(s.eval_argv)},
                 {"train_config", s.train_config}, {"serve", s.serve_checkpoint}};
    json deps = json::object();
    for (const std::string& d : s.deps) deps[d] = hashes.at(d);
    spec["deps"] = deps;
    s.spec_hash = HashHex(spec.dump());
    hashes[s.name] = s.spec_hash;
  }
  return plan;
}

}  // namespace mivla::trainer::ablation
