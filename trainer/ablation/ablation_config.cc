// File: ablation_config.cc
#include "trainer/ablation/ablation_config.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/json_field.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"

namespace mivla::trainer::ablation {
namespace {

using json = nlohmann::json;

/// Reads one JSON object's fields, remembering which were read, so the rest are unknown-key errors.
class Reader {
 public:
  Reader(const json& j, std::string file, std::string where) : j_(j), file_(std::move(file)), where_(std::move(where)) {}

  absl::Status Bad(const std::string& field, const std::string& why) const {
    return absl::InvalidArgumentError(absl::StrCat(file_, ": ", Path(field), ": ", why));
  }
  std::string Path(const std::string& field) const { return where_.empty() ? field : absl::StrCat(where_, ".", field); }
  // The field, present (Find said so), into *out with its type checked.
  template <typename T>
  absl::Status Take(const std::string& field, T* out) {
    return WithPrefix(ReadJsonFieldAt(j_, where_, field, out), file_ + ": ");
  }
  const json* Find(const std::string& field) {
    seen_.insert(field);
    auto it = j_.find(field);
    return it == j_.end() ? nullptr : &*it;
  }
  absl::Status String(const std::string& field, std::string* out, bool required = false) {
    const json* v = Find(field);
    if (v == nullptr) return required ? Bad(field, "required") : absl::OkStatus();
    return Take(field, out);
  }
  absl::Status Int(const std::string& field, int64_t* out, bool required = false) {
    const json* v = Find(field);
    if (v == nullptr) return required ? Bad(field, "required") : absl::OkStatus();
    return Take(field, out);
  }
  absl::Status Number(const std::string& field, double* out) {
    const json* v = Find(field);
    if (v == nullptr) return absl::OkStatus();
    return Take(field, out);
  }
  absl::Status Bool(const std::string& field, bool* out) {
    const json* v = Find(field);
    if (v == nullptr) return absl::OkStatus();
    return Take(field, out);
  }
  absl::Status Object(const std::string& field, json* out) {
    const json* v = Find(field);
    if (v == nullptr) return absl::OkStatus();
    if (!v->is_object()) return Bad(field, absl::StrCat("expected a JSON object, got ", v->dump()));
    *out = *v;
    return absl::OkStatus();
  }
  absl::Status Strings(const std::string& field, std::vector<std::string>* out) {
    const json* v = Find(field);
    if (v == nullptr) return absl::OkStatus();
    if (!v->is_array()) return Bad(field, "expected a list of strings");
    out->clear();
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) return Bad(absl::StrCat(field, "[", i, "]"), "expected a string");
      out->push_back((*v)[i].get<std::string>());
    }
    return absl::OkStatus();
  }
  /// After every Get: an error for the first key that was not read.
  absl::Status NoUnknown() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (seen_.count(it.key()) == 0) return Bad(it.key(), "unknown field");
    }
    return absl::OkStatus();
  }
  const std::string& file() const { return file_; }

 private:
  const json& j_;
  std::string file_, where_;
  std::set<std::string> seen_;
};

bool GoodName(const std::string& n) {
  return !n.empty() && n.size() <= 64 &&
         n.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string::npos;
}

absl::Status ParseSources(const json& list, const std::string& file, const std::string& where,
                          const std::set<std::string>& sets, std::vector<SourceRef>* out) {
  auto bad = [&](const std::string& at, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", at, ": ", why));
  };
  if (!list.is_array()) return bad(where, "expected a list of datagen set names or {\"set\", \"weight\"} objects");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = absl::StrCat(where, "[", i, "]");
    SourceRef ref;
    if (list[i].is_string()) {
      ref.set = list[i].get<std::string>();
    } else if (list[i].is_object()) {
      Reader r(list[i], file, at);
      RETURN_IF_ERROR(r.String("set", &ref.set, true));
      RETURN_IF_ERROR(r.Number("weight", &ref.weight));
      RETURN_IF_ERROR(r.NoUnknown());
      if (!(ref.weight > 0)) return r.Bad("weight", "must be > 0");
    } else {
      return bad(at, "expected a datagen set name or {\"set\", \"weight\"}");
    }
    if (sets.count(ref.set) == 0) {
      return bad(at, absl::StrCat("no datagen set named '", ref.set, "' (have: ", absl::StrJoin(sets, ", "), ")"));
    }
    out->push_back(ref);
  }
  return absl::OkStatus();
}

/// Fields of a base train config that the ablation sets itself.
absl::Status CheckBase(const json& base, const std::string& file, const std::string& where) {
  for (const char* key : {"name", "output_dir", "init_checkpoint", "model", "model_overrides"}) {
    if (base.contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", where, ".", key,
                                                     ": set by the ablation (top-level model / model_overrides, "
                                                     "the stage's folder and checkpoint); remove it"));
    }
  }
  if (base.contains("data") && base["data"].is_object() && base["data"].contains("sources")) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": ", where, ".data.sources: set by the ablation from the datagen sets; remove it"));
  }
  return absl::OkStatus();
}

absl::Status ParseDatagen(const json& list, const std::string& file, AblationConfig* c) {
  if (!list.is_array() || list.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": datagen: expected a non-empty list of data sets"));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = absl::StrCat("datagen[", i, "]");
    if (!list[i].is_object()) return absl::InvalidArgumentError(absl::StrCat(file, ": ", at, ": expected an object"));
    Reader r(list[i], file, at);
    DatagenSet d;
    RETURN_IF_ERROR(r.String("name", &d.name, true));
    RETURN_IF_ERROR(r.String("task", &d.task, true));
    RETURN_IF_ERROR(r.String("embodiment", &d.embodiment, true));
    RETURN_IF_ERROR(r.Int("episodes", &d.episodes, true));
    RETURN_IF_ERROR(r.String("mode", &d.mode));
    RETURN_IF_ERROR(r.Int("seed", &d.seed));
    RETURN_IF_ERROR(r.NoUnknown());
    if (!GoodName(d.name)) return r.Bad("name", absl::StrCat("'", d.name, "': use letters, digits, _ and -"));
    if (!names.insert(d.name).second) return r.Bad("name", absl::StrCat("'", d.name, "' is used twice"));
    static const std::set<std::string> kEmbodiments = {"human", "piper", "arx5", "locoman", "aloha"};
    if (kEmbodiments.count(d.embodiment) == 0) {
      return r.Bad("embodiment", absl::StrCat("'", d.embodiment, "': want human, piper, arx5, locoman or aloha"));
    }
    if (d.mode != "easy" && d.mode != "hard") return r.Bad("mode", absl::StrCat("'", d.mode, "': want easy or hard"));
    if (d.episodes < 1) return r.Bad("episodes", "must be >= 1");
    if (d.seed < 0) return r.Bad("seed", "must be >= 0");
    c->datagen.push_back(d);
  }
  return absl::OkStatus();
}

absl::Status ParsePretrain(const json& j, const std::string& file, const std::set<std::string>& sets,
                           AblationConfig* c) {
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(file, ": pretrain: expected an object"));
  Reader r(j, file, "pretrain");
  RETURN_IF_ERROR(r.Object("base", &c->pretrain_base));
  RETURN_IF_ERROR(CheckBase(c->pretrain_base, file, "pretrain.base"));
  const json* variants = r.Find("variants");
  RETURN_IF_ERROR(r.NoUnknown());
  if (variants == nullptr || !variants->is_array() || variants->empty()) {
    return r.Bad("variants", "expected a non-empty list of {\"name\", \"sources\", \"loss\"}");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < variants->size(); ++i) {
    const std::string at = absl::StrCat("pretrain.variants[", i, "]");
    const json& vj = (*variants)[i];
    if (!vj.is_object()) return absl::InvalidArgumentError(absl::StrCat(file, ": ", at, ": expected an object"));
    Reader vr(vj, file, at);
    Variant v;
    RETURN_IF_ERROR(vr.String("name", &v.name, true));
    RETURN_IF_ERROR(vr.String("label", &v.label));
    RETURN_IF_ERROR(vr.Bool("pretrain", &v.pretrain));
    RETURN_IF_ERROR(vr.Object("loss", &v.loss));
    const json* sources = vr.Find("sources");
    RETURN_IF_ERROR(vr.NoUnknown());
    if (!GoodName(v.name)) return vr.Bad("name", absl::StrCat("'", v.name, "': use letters, digits, _ and -"));
    if (!names.insert(v.name).second) return vr.Bad("name", absl::StrCat("'", v.name, "' is used twice"));
    if (v.label.empty()) v.label = v.name;
    if (sources != nullptr) RETURN_IF_ERROR(ParseSources(*sources, file, vr.Path("sources"), sets, &v.sources));
    if (v.pretrain && v.sources.empty()) {
      return vr.Bad("sources", "a pre-trained variant needs data (or set \"pretrain\": false for no pre-training)");
    }
    if (!v.pretrain && (!v.sources.empty() || !v.loss.empty())) {
      return vr.Bad(v.sources.empty() ? "loss" : "sources", "a variant without pre-training takes no sources or loss");
    }
    c->variants.push_back(std::move(v));
  }
  return absl::OkStatus();
}

absl::Status ParseEval(const json& j, const std::string& file, EvalSpec* e) {
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(file, ": eval: expected an object"));
  Reader r(j, file, "eval");
  RETURN_IF_ERROR(r.String("embodiment", &e->embodiment));
  RETURN_IF_ERROR(r.Strings("tasks", &e->tasks));
  RETURN_IF_ERROR(r.Strings("modes", &e->modes));
  RETURN_IF_ERROR(r.Int("episodes", &e->episodes));
  RETURN_IF_ERROR(r.Int("seed", &e->seed));
  RETURN_IF_ERROR(r.Int("parallel", &e->parallel));
  RETURN_IF_ERROR(r.Strings("server_flags", &e->server_flags));
  RETURN_IF_ERROR(r.Strings("eval_flags", &e->eval_flags));
  RETURN_IF_ERROR(r.Number("server_start_timeout_s", &e->server_start_timeout_s));
  RETURN_IF_ERROR(r.NoUnknown());
  static const std::set<std::string> kRobots = {"piper", "arx5", "locoman", "aloha"};
  if (kRobots.count(e->embodiment) == 0) {
    return r.Bad("embodiment", absl::StrCat("'", e->embodiment, "': want piper, arx5, locoman or aloha"));
  }
  if (e->tasks.empty()) return r.Bad("tasks", "required (a non-empty list of sim tasks)");
  std::set<std::string> tasks;
  for (size_t i = 0; i < e->tasks.size(); ++i) {
    if (!GoodName(e->tasks[i]) || !tasks.insert(e->tasks[i]).second) {
      return r.Bad(absl::StrCat("tasks[", i, "]"), absl::StrCat("'", e->tasks[i], "': a task name, each once"));
    }
  }
  if (e->modes.empty()) return r.Bad("modes", "required (easy, hard or both)");
  std::set<std::string> modes;
  for (size_t i = 0; i < e->modes.size(); ++i) {
    if ((e->modes[i] != "easy" && e->modes[i] != "hard") || !modes.insert(e->modes[i]).second) {
      return r.Bad(absl::StrCat("modes[", i, "]"), absl::StrCat("'", e->modes[i], "': easy or hard, each once"));
    }
  }
  if (e->episodes < 1) return r.Bad("episodes", "must be >= 1");
  if (e->seed < 0) return r.Bad("seed", "must be >= 0");
  if (e->parallel < 1 || e->parallel > 64) return r.Bad("parallel", "want 1..64");
  if (!(e->server_start_timeout_s > 0)) return r.Bad("server_start_timeout_s", "must be > 0");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AblationConfig> ParseAblationConfig(const std::string& json_text, const std::string& path) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": expected a JSON object"));
  AblationConfig c;
  c.path = path;
  Reader r(j, path, "");
  RETURN_IF_ERROR(r.String("output_dir", &c.output_dir, true));
  RETURN_IF_ERROR(r.String("model", &c.model));
  RETURN_IF_ERROR(r.Object("model_overrides", &c.model_overrides));
  RETURN_IF_ERROR(r.Int("datagen_workers", &c.datagen_workers));
  RETURN_IF_ERROR(r.Number("stop_grace_s", &c.stop_grace_s));
  const json* datagen = r.Find("datagen");
  const json* pretrain = r.Find("pretrain");
  const json* finetune = r.Find("finetune");
  const json* eval = r.Find("eval");
  RETURN_IF_ERROR(r.NoUnknown());
  if (c.output_dir.empty()) return r.Bad("output_dir", "must not be empty");
  if (c.model != "tiny" && c.model != "base") return r.Bad("model", absl::StrCat("'", c.model, "': want tiny or base"));
  if (c.datagen_workers < 0) return r.Bad("datagen_workers", "must be >= 0");
  if (!(c.stop_grace_s > 0)) return r.Bad("stop_grace_s", "must be > 0");
  if (datagen == nullptr) return r.Bad("datagen", "required");
  RETURN_IF_ERROR(ParseDatagen(*datagen, path, &c));
  std::set<std::string> sets;
  for (const DatagenSet& d : c.datagen) sets.insert(d.name);
  if (pretrain == nullptr) return r.Bad("pretrain", "required");
  RETURN_IF_ERROR(ParsePretrain(*pretrain, path, sets, &c));
  if (finetune == nullptr || !finetune->is_object()) return r.Bad("finetune", "required (an object)");
  {
    Reader fr(*finetune, path, "finetune");
    RETURN_IF_ERROR(fr.Object("base", &c.finetune_base));
    RETURN_IF_ERROR(CheckBase(c.finetune_base, path, "finetune.base"));
    const json* sources = fr.Find("sources");
    RETURN_IF_ERROR(fr.NoUnknown());
    if (sources == nullptr) return fr.Bad("sources", "required (the fine-tuning data sets)");
    RETURN_IF_ERROR(ParseSources(*sources, path, "finetune.sources", sets, &c.finetune_sources));
    if (c.finetune_sources.empty()) return fr.Bad("sources", "must not be empty");
  }
  if (eval == nullptr) return r.Bad("eval", "required");
  RETURN_IF_ERROR(ParseEval(*eval, path, &c.eval));
  return c;
}

absl::StatusOr<AblationConfig> LoadAblationConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return WithPrefix(text.status(), "ablation config: ");
  }
  return ParseAblationConfig(*text, path);
}

}  // namespace mivla::trainer::ablation
