// File: ablation_report.cc
#include "trainer/ablation/ablation_report.h"

#include <algorithm>
#include <functional>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"
#include "trainer/ablation/ablation_plot.h"

namespace mivla::trainer::ablation {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Duration(double s) {
  const int t = static_cast<int>(s + 0.5);
  if (t >= 3600) return absl::StrFormat("%dh%02dm", t / 3600, t / 60 % 60);
  if (t >= 60) return absl::StrFormat("%dm%02ds", t / 60, t % 60);
  return absl::StrFormat("%ds", t);
}

std::string Pct(const json& v) { return v.is_number() ? absl::StrFormat("%.0f", 100.0 * v.get<double>()) : "-"; }
std::string Num(const json& v, int decimals) {
  return v.is_number() ? absl::StrFormat("%.*f", decimals, v.get<double>()) : "-";
}

/// One table: rows = variants, columns = tasks + mean, cells from summary[variant][mode].
std::string Table(const json& r, const std::string& mode, const std::string& metric,
                  const std::function<std::string(const json&)>& fmt) {
  std::string md = "| variant |";
  std::string sep = "| --- |";
  for (const auto& t : r["eval"]["tasks"]) {
    md += absl::StrCat(" ", t.get<std::string>(), " |");
    sep += " ---: |";
  }
  md += " mean |\n" + sep + " ---: |\n";
  for (const auto& v : r["variants"]) {
    const std::string name = v["name"].get<std::string>();
    const json& s = r["summary"][name][mode];
    md += absl::StrCat("| (", name, ") ", v["label"].get<std::string>(), " |");
    for (const auto& t : r["eval"]["tasks"]) md += absl::StrCat(" ", fmt(s["tasks"][t.get<std::string>()][metric]), " |");
    md += absl::StrCat(" ", fmt(s[metric]), " |\n");
  }
  return md;
}

}  // namespace

absl::StatusOr<json> CollectResults(const AblationConfig& config, const Plan& plan, const StageStore& store) {
  json r;
  r["config"] = config.path;
  r["command"] = absl::StrCat("mivla-train ablation --config ", config.path);
  r["output_dir"] = plan.output_dir;
  r["generated_at"] = UtcNow();
  r["model"] = config.model;
  r["model_overrides"] = config.model_overrides;
  const EvalSpec& e = config.eval;
  r["eval"] = {{"embodiment", e.embodiment}, {"tasks", e.tasks}, {"modes", e.modes}, {"episodes", e.episodes},
               {"seed", e.seed}, {"seeds", absl::StrCat(e.seed, "..", e.seed + e.episodes - 1)}};
  json variants = json::array(), cells = json::array(), training = json::array(), data = json::array();
  json summary = json::object();
  double data_s = 0, pretrain_s = 0, finetune_s = 0, eval_s = 0;
  for (const Variant& v : config.variants) {
    json sources = json::array();
    for (const SourceRef& s : v.sources) sources.push_back(s.set);
    json loss = json::object();
    for (const Stage& s : plan.stages) {
      if (s.kind == StageKind::kPretrain && s.variant == v.name) loss = s.train_config.value("loss", json::object());
    }
    variants.push_back({{"name", v.name}, {"label", v.label}, {"pretrain", v.pretrain}, {"sources", sources},
                        {"loss", loss}});
  }
  for (const Stage& s : plan.stages) {
    if (s.kind == StageKind::kReport) continue;
    std::optional<StageRecord> rec = store.Done(s.name);
    if (!rec || rec->spec_hash != s.spec_hash) {
      return absl::FailedPreconditionError(absl::StrCat("the report needs stage ", s.name, ", which is not done"));
    }
    json x = rec->result;
    x["stage"] = s.name;
    x["seconds"] = rec->seconds;
    switch (s.kind) {
      case StageKind::kData:
        data_s += rec->seconds;
        data.push_back(x);
        break;
      case StageKind::kPretrain:
      case StageKind::kFinetune:
        (s.kind == StageKind::kPretrain ? pretrain_s : finetune_s) += rec->seconds;
        x["kind"] = StageKindName(s.kind);
        x["variant"] = s.variant;
        x["dir"] = s.dir;
        training.push_back(x);
        break;
      case StageKind::kEval:
        eval_s += rec->seconds;
        cells.push_back(x);
        summary[s.variant][s.mode]["tasks"][s.task] = {
            {"success_rate", x["success_rate"]}, {"completeness", x["completeness"]},
            {"mean_time_to_success_s", x["mean_time_to_success_s"]}, {"episodes", x["episodes"]},
            {"successes", x["successes"]}};
        break;
      case StageKind::kReport: break;
    }
  }
  json order = json::object();
  for (const std::string& mode : e.modes) {
    std::vector<std::pair<double, std::string>> means;
    for (const Variant& v : config.variants) {
      json& s = summary[v.name][mode];
      double sr = 0, comp = 0, tts = 0;
      int n_tts = 0;
      for (const std::string& t : e.tasks) {
        const json& c = s["tasks"][t];
        sr += c["success_rate"].get<double>();
        comp += c["completeness"].get<double>();
        if (c["mean_time_to_success_s"].is_number()) tts += c["mean_time_to_success_s"].get<double>(), ++n_tts;
      }
      s["success_rate"] = sr / static_cast<double>(e.tasks.size());
      s["completeness"] = comp / static_cast<double>(e.tasks.size());
      s["mean_time_to_success_s"] = n_tts > 0 ? json(tts / n_tts) : json();
      means.emplace_back(sr / static_cast<double>(e.tasks.size()), v.name);
    }
    std::stable_sort(means.begin(), means.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    json o = json::array();
    for (const auto& m : means) o.push_back({{"variant", m.second}, {"success_rate", m.first}});
    order[mode] = o;
  }
  r["variants"] = variants;
  r["cells"] = cells;
  r["summary"] = summary;
  r["order"] = order;
  r["training"] = training;
  r["data"] = data;
  r["compute"] = {{"data_s", data_s}, {"pretrain_s", pretrain_s}, {"finetune_s", finetune_s}, {"eval_s", eval_s},
                  {"total_s", data_s + pretrain_s + finetune_s + eval_s}};
  return r;
}

std::string ResultsMarkdown(const json& r) {
  const json& e = r["eval"];
  std::string md = "# Ablation results\n\n";
  md += absl::StrCat("Command: `", r["command"].get<std::string>(), "` (output in `", r["output_dir"].get<std::string>(),
                     "`, generated ", r["generated_at"].get<std::string>(), "). Model `", r["model"].get<std::string>(),
                     "`", r["model_overrides"].empty() ? "" : absl::StrCat(" with overrides `", r["model_overrides"].dump(), "`"),
                     ".\n\nClosed-loop evaluation through `mivla-server` with `mivla-eval`: ", e["embodiment"].get<std::string>(),
                     ", ", e["episodes"].get<int64_t>(), " episodes per task and mode, seeds ", e["seeds"].get<std::string>(),
                     ".\n\n");
  md += "| variant | pre-training data | loss terms |\n| --- | --- | --- |\n";
  for (const auto& v : r["variants"]) {
    std::vector<std::string> terms;
    for (const auto& [k, val] : v["loss"].items()) {
      if (val.is_boolean() && val.get<bool>()) terms.push_back(k);
    }
    md += absl::StrCat("| (", v["name"].get<std::string>(), ") ", v["label"].get<std::string>(), " | ",
                       v["pretrain"].get<bool>() ? absl::StrJoin(v["sources"].get<std::vector<std::string>>(), ", ")
                                                 : std::string("none (fresh model)"),
                       " | ", v["pretrain"].get<bool>() ? absl::StrJoin(terms, ", ") : std::string("-"), " |\n");
  }
  for (const auto& m : e["modes"]) {
    const std::string mode = m.get<std::string>();
    md += absl::StrCat("\n## Success rate (%), ", mode, " mode\n\n");
    md += Table(r, mode, "success_rate", [](const json& v) { return Pct(v); });
    std::vector<std::string> order;
    for (const auto& o : r["order"][mode]) {
      order.push_back(absl::StrCat(o["variant"].get<std::string>(), " (", Pct(o["success_rate"]), "%)"));
    }
    md += absl::StrCat("\nVariants by mean success, ", mode, " mode: ", absl::StrJoin(order, " >= "),
                       ". The paper's claim is d > c > b > a.\n");
  }
  for (const auto& m : e["modes"]) {
    const std::string mode = m.get<std::string>();
    md += absl::StrCat("\n## Completeness (mean), ", mode, " mode\n\n");
    md += Table(r, mode, "completeness", [](const json& v) { return Num(v, 2); });
    md += absl::StrCat("\n## Time to success (s, mean over successful episodes), ", mode, " mode\n\n");
    md += Table(r, mode, "mean_time_to_success_s", [](const json& v) { return Num(v, 1); });
  }
  std::vector<std::string> errored;
  for (const auto& c : r["cells"]) {
    if (c.value("errors", 0) > 0) {
      errored.push_back(absl::StrCat(c["stage"].get<std::string>(), " (", c["errors"].get<int>(), ")"));
    }
  }
  if (!errored.empty()) {
    md += absl::StrCat("\nEpisodes that errored (left out of the metrics by mivla-eval): ", absl::StrJoin(errored, ", "),
                       ".\n");
  }
  md += "\n## Training runs\n\n| run | init | steps | first loss | last loss | wall time |\n| --- | --- | ---: | ---: | ---: | ---: |\n";
  for (const auto& t : r["training"]) {
    md += absl::StrCat("| ", t["stage"].get<std::string>(), " | ", t.value("init", std::string("-")), " | ",
                       t.value("steps", int64_t{0}), " | ", Num(t.value("first_loss", json()), 4), " | ",
                       Num(t.value("last_loss", json()), 4), " | ", Duration(t.value("seconds", 0.0)), " |\n");
  }
  md += "\n## Data\n\n| set | episodes | frames | wall time |\n| --- | ---: | ---: | ---: |\n";
  for (const auto& d : r["data"]) {
    md += absl::StrCat("| ", d["stage"].get<std::string>(), " | ", d.value("episodes", int64_t{0}), " | ",
                       d.value("frames", int64_t{0}), " | ", Duration(d.value("seconds", 0.0)), " |\n");
  }
  const json& c = r["compute"];
  md += absl::StrCat("\n## Compute (wall time over every call)\n\n| data | pre-training | fine-tuning | evaluation | total |\n",
                     "| ---: | ---: | ---: | ---: | ---: |\n| ", Duration(c["data_s"].get<double>()), " | ",
                     Duration(c["pretrain_s"].get<double>()), " | ", Duration(c["finetune_s"].get<double>()), " | ",
                     Duration(c["eval_s"].get<double>()), " | ", Duration(c["total_s"].get<double>()), " |\n");
  md += "\nPlot: `ablation.png` (success per task and variant; training curves).\n";
  return md;
}

absl::StatusOr<json> WriteReport(const AblationConfig& config, const Plan& plan, const StageStore& store) {
  ASSIGN_OR_RETURN(json r, CollectResults(config, plan, store));
  const fs::path out(plan.output_dir);
  RETURN_IF_ERROR(WriteFileAtomic((out / "results.json").string(), r.dump(2) + "\n"));
  RETURN_IF_ERROR(WriteFileAtomic((out / "results.md").string(), ResultsMarkdown(r)));
  RETURN_IF_ERROR(WriteAblationPng(r, (out / "ablation.png").string()));
  json means = json::object();
  for (const auto& [v, modes] : r["summary"].items()) {
    for (const auto& [mode, s] : modes.items()) means[v][mode] = s["success_rate"];
  }
  return json{{"results_json", (out / "results.json").string()}, {"results_md", (out / "results.md").string()},
              {"png", (out / "ablation.png").string()}, {"mean_success", means}};
}

}  // namespace mivla::trainer::ablation
