#include "trainer/train/train_config.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/util/json_field.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"

namespace mivla::trainer {
namespace {

using nlohmann::json;

// Reads the fields of one JSON object; every error names origin and the dotted field path.
class ObjectReader {
 public:
  ObjectReader(const std::string& origin, std::string path, const json& obj)
      : origin_(origin), path_(std::move(path)), obj_(obj) {}

  absl::Status Error(const std::string& key, const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat(origin_, ": ", Field(key), ": ", what));
  }
  std::string Field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  template <typename T>
  absl::Status Get(const std::string& key, T* out) {
    known_.insert(key);
    return WithPrefix(ReadJsonFieldAt(obj_, path_, key, out), origin_ + ": ");
  }

  absl::StatusOr<const json*> Object(const std::string& key) {
    known_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) return nullptr;
    if (!it->is_object()) return Error(key, absl::StrCat("expected an object, got ", it->dump()));
    return &*it;
  }

  absl::StatusOr<const json*> Array(const std::string& key) {
    known_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) return nullptr;
    if (!it->is_array()) return Error(key, absl::StrCat("expected an array, got ", it->dump()));
    return &*it;
  }

  absl::Status NoUnknownKeys() const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (known_.count(it.key()) == 0) {
        return Error(it.key(), absl::StrCat("unknown field (known: ", absl::StrJoin(known_, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

 private:
  const std::string& origin_;
  std::string path_;
  const json& obj_;
  std::set<std::string> known_;
};

absl::Status ParseData(const std::string& origin, const json& obj, TrainConfig& c) {
  ObjectReader r(origin, "data", obj);
  ASSIGN_OR_RETURN(const json* sources, r.Array("sources"));
  if (sources != nullptr) {
    for (size_t i = 0; i < sources->size(); ++i) {
      const std::string path = absl::StrCat("data.sources[", i, "]");
      if (!(*sources)[i].is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(origin, ": ", path, ": expected an object"));
      }
      ObjectReader s(origin, path, (*sources)[i]);
      SourceConfig src;
      RETURN_IF_ERROR(s.Get("name", &src.name));
      RETURN_IF_ERROR(s.Get("path", &src.path));
      RETURN_IF_ERROR(s.Get("weight", &src.weight));
      RETURN_IF_ERROR(s.Get("robotwin_embodiment", &src.robotwin_embodiment));
      double boost = 0;
      if ((*sources)[i].contains("grasp_boost")) {
        RETURN_IF_ERROR(s.Get("grasp_boost", &boost));
        src.grasp_boost = boost;
      }
      RETURN_IF_ERROR(s.NoUnknownKeys());
      if (src.name.empty()) src.name = absl::StrCat("source", i);
      c.sources.push_back(src);
    }
  }
  RETURN_IF_ERROR(r.Get("target_embodiment", &c.target_embodiment));
  RETURN_IF_ERROR(r.Get("batch_size", &c.batch_size));
  RETURN_IF_ERROR(r.Get("workers", &c.workers));
  RETURN_IF_ERROR(r.Get("prefetch_batches", &c.prefetch_batches));
  ASSIGN_OR_RETURN(const json* cameras, r.Array("cameras"));
  if (cameras != nullptr) {
    for (const json& cam : *cameras) {
      if (!cam.is_string()) return r.Error("cameras", "expected an array of strings");
      c.cameras.push_back(cam.get<std::string>());
    }
  }
  RETURN_IF_ERROR(r.Get("tokenizer", &c.tokenizer));
  RETURN_IF_ERROR(r.Get("embodiment_dir", &c.embodiment_dir));
  RETURN_IF_ERROR(r.Get("cache_dir", &c.cache_dir));
  ASSIGN_OR_RETURN(const json* augment, r.Object("augment"));
  if (augment != nullptr) c.augment = *augment;
  ASSIGN_OR_RETURN(const json* grasp, r.Object("grasp_boost"));
  if (grasp != nullptr) {
    ObjectReader g(origin, "data.grasp_boost", *grasp);
    RETURN_IF_ERROR(g.Get("factor", &c.grasp_boost));
    RETURN_IF_ERROR(g.Get("before_s", &c.grasp_before_s));
    RETURN_IF_ERROR(g.Get("after_s", &c.grasp_after_s));
    RETURN_IF_ERROR(g.NoUnknownKeys());
  }
  return r.NoUnknownKeys();
}

}  // namespace

absl::StatusOr<TrainConfig> ParseTrainConfig(const std::string& json_text, const std::string& origin) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (root.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(origin, ": not valid JSON"));
  if (!root.is_object()) return absl::InvalidArgumentError(absl::StrCat(origin, ": expected a JSON object"));
  TrainConfig c;
  ObjectReader r(origin, "", root);
  RETURN_IF_ERROR(r.Get("name", &c.name));
  RETURN_IF_ERROR(r.Get("model", &c.model));
  RETURN_IF_ERROR(r.Get("init_checkpoint", &c.init_checkpoint));
  ASSIGN_OR_RETURN(const json* overrides, r.Object("model_overrides"));
  if (overrides != nullptr) c.model_overrides = *overrides;
  RETURN_IF_ERROR(r.Get("keep_normalization", &c.keep_normalization));
  RETURN_IF_ERROR(r.Get("output_dir", &c.output_dir));
  RETURN_IF_ERROR(r.Get("seed", &c.seed));
  RETURN_IF_ERROR(r.Get("device", &c.device));
  RETURN_IF_ERROR(r.Get("precision", &c.precision));
  RETURN_IF_ERROR(r.Get("checkpoint_every", &c.checkpoint_every));
  RETURN_IF_ERROR(r.Get("keep_last", &c.keep_last));
  RETURN_IF_ERROR(r.Get("log_every", &c.log_every));
  ASSIGN_OR_RETURN(const json* data, r.Object("data"));
  if (data != nullptr) RETURN_IF_ERROR(ParseData(origin, *data, c));
  ASSIGN_OR_RETURN(const json* loss, r.Object("loss"));
  if (loss != nullptr) {
    ObjectReader l(origin, "loss", *loss);
    RETURN_IF_ERROR(l.Get("robot", &c.loss_robot));
    RETURN_IF_ERROR(l.Get("robot_to_human", &c.loss_robot_to_human));
    RETURN_IF_ERROR(l.Get("human", &c.loss_human));
    RETURN_IF_ERROR(l.Get("human_to_robot", &c.loss_human_to_robot));
    RETURN_IF_ERROR(l.Get("complement_weight", &c.complement_weight));
    RETURN_IF_ERROR(l.NoUnknownKeys());
  }
  ASSIGN_OR_RETURN(const json* optim, r.Object("optim"));
  if (optim != nullptr) {
    ObjectReader o(origin, "optim", *optim);
    RETURN_IF_ERROR(o.Get("steps", &c.steps));
    RETURN_IF_ERROR(o.Get("lr", &c.lr));
    RETURN_IF_ERROR(o.Get("weight_decay", &c.weight_decay));
    RETURN_IF_ERROR(o.Get("warmup_steps", &c.warmup_steps));
    RETURN_IF_ERROR(o.Get("decay", &c.decay));
    RETURN_IF_ERROR(o.Get("min_lr", &c.min_lr));
    RETURN_IF_ERROR(o.Get("grad_clip", &c.grad_clip));
    RETURN_IF_ERROR(o.Get("beta1", &c.beta1));
    RETURN_IF_ERROR(o.Get("beta2", &c.beta2));
    RETURN_IF_ERROR(o.Get("eps", &c.eps));
    RETURN_IF_ERROR(o.NoUnknownKeys());
  }
  ASSIGN_OR_RETURN(const json* enc, r.Object("encoders"));
  if (enc != nullptr) {
    ObjectReader e(origin, "encoders", *enc);
    RETURN_IF_ERROR(e.Get("freeze_vision", &c.freeze_vision));
    RETURN_IF_ERROR(e.Get("freeze_text", &c.freeze_text));
    RETURN_IF_ERROR(e.Get("hf_dinov2", &c.hf_dinov2));
    RETURN_IF_ERROR(e.Get("hf_siglip", &c.hf_siglip));
    RETURN_IF_ERROR(e.Get("hf_t5", &c.hf_t5));
    RETURN_IF_ERROR(e.NoUnknownKeys());
  }
  RETURN_IF_ERROR(r.NoUnknownKeys());
  return c;
}

absl::StatusOr<TrainConfig> LoadTrainConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return WithPrefix(text.status(), "training configuration: ");
  }
  return ParseTrainConfig(*text, path);
}

absl::Status ValidateTrainConfig(const TrainConfig& c, const std::string& origin) {
  auto bad = [&](const std::string& field, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", field, ": ", why));
  };
  if (c.name.empty() || c.name.find('/') != std::string::npos) return bad("name", "must be a non-empty file name");
  if (c.init_checkpoint.empty() && c.model != "tiny" && c.model != "base") {
    return bad("model", absl::StrCat("unknown model config '", c.model, "' (tiny, base)"));
  }
  if (!c.model_overrides.is_object()) return bad("model_overrides", "must be a JSON object");
  if (!c.init_checkpoint.empty() && !c.model_overrides.empty()) {
    return bad("model_overrides", "fine-tuning keeps the checkpoint's model config; overrides are for pretrain");
  }
  if (c.output_dir.empty()) return bad("output_dir", "must be set");
  if (c.precision != "fp32" && c.precision != "bf16") return bad("precision", "must be fp32 or bf16");
  if (c.batch_size <= 0) return bad("data.batch_size", "must be positive");
  if (c.workers < 0) return bad("data.workers", "must not be negative");
  if (c.prefetch_batches <= 0) return bad("data.prefetch_batches", "must be positive");
  for (size_t i = 0; i < c.sources.size(); ++i) {
    if (c.sources[i].path.empty()) return bad(absl::StrCat("data.sources[", i, "].path"), "must be set");
    if (!(c.sources[i].weight > 0)) return bad(absl::StrCat("data.sources[", i, "].weight"), "must be positive");
    const std::optional<double>& boost = c.sources[i].grasp_boost;
    if (boost && (!(*boost > 0) || !std::isfinite(*boost))) {
      return bad(absl::StrCat("data.sources[", i, "].grasp_boost"), "must be positive");
    }
  }
  if (!(c.grasp_boost > 0) || !std::isfinite(c.grasp_boost)) return bad("data.grasp_boost.factor", "must be positive");
  if (!(c.grasp_before_s >= 0) || !std::isfinite(c.grasp_before_s)) {
    return bad("data.grasp_boost.before_s", "must not be negative");
  }
  if (!(c.grasp_after_s >= 0) || !std::isfinite(c.grasp_after_s)) {
    return bad("data.grasp_boost.after_s", "must not be negative");
  }
  if (!(c.complement_weight >= 0)) return bad("loss.complement_weight", "must not be negative");
  if (!c.loss_robot && !c.loss_robot_to_human && !c.loss_human && !c.loss_human_to_robot) {
    return bad("loss", "every term is switched off");
  }
  if (c.steps <= 0) return bad("optim.steps", "must be positive");
  if (!(c.lr > 0)) return bad("optim.lr", "must be positive");
  if (!(c.weight_decay >= 0)) return bad("optim.weight_decay", "must not be negative");
  if (c.warmup_steps < 0) return bad("optim.warmup_steps", "must not be negative");
  if (c.decay != "constant" && c.decay != "cosine") {
    return bad("optim.decay", absl::StrCat("unknown schedule '", c.decay, "' (constant, cosine)"));
  }
  if (!(c.min_lr >= 0 && c.min_lr <= c.lr)) return bad("optim.min_lr", "must be in [0, optim.lr]");
  if (!(c.beta1 >= 0 && c.beta1 < 1)) return bad("optim.beta1", "must be in [0, 1)");
  if (!(c.beta2 >= 0 && c.beta2 < 1)) return bad("optim.beta2", "must be in [0, 1)");
  if (!(c.eps > 0)) return bad("optim.eps", "must be positive");
  if (c.checkpoint_every <= 0) return bad("checkpoint_every", "must be positive");
  if (c.keep_last <= 0) return bad("keep_last", "must be positive");
  if (c.log_every <= 0) return bad("log_every", "must be positive");
  return absl::OkStatus();
}

nlohmann::json TrainConfigToJson(const TrainConfig& c) {
  json sources = json::array();
  for (const SourceConfig& s : c.sources) {
    sources.push_back({{"name", s.name}, {"path", s.path}, {"weight", s.weight},
                       {"robotwin_embodiment", s.robotwin_embodiment}});
    if (s.grasp_boost) sources.back()["grasp_boost"] = *s.grasp_boost;  // absent when unset: older fingerprints
  }
  const json grasp = {{"factor", c.grasp_boost}, {"before_s", c.grasp_before_s}, {"after_s", c.grasp_after_s}};
  return {{"name", c.name},
          {"model", c.model},
          {"init_checkpoint", c.init_checkpoint},
          {"model_overrides", c.model_overrides},
          {"keep_normalization", c.keep_normalization},
          {"output_dir", c.output_dir},
          {"seed", c.seed},
          {"device", c.device},
          {"precision", c.precision},
          {"data",
           {{"sources", sources},
            {"target_embodiment", c.target_embodiment},
            {"batch_size", c.batch_size},
            {"workers", c.workers},
            {"prefetch_batches", c.prefetch_batches},
            {"cameras", c.cameras},
            {"tokenizer", c.tokenizer},
            {"embodiment_dir", c.embodiment_dir},
            {"cache_dir", c.cache_dir},
            {"augment", c.augment},
            {"grasp_boost", grasp}}},
          {"loss",
           {{"robot", c.loss_robot},
            {"robot_to_human", c.loss_robot_to_human},
            {"human", c.loss_human},
            {"human_to_robot", c.loss_human_to_robot},
            {"complement_weight", c.complement_weight}}},
          {"optim",
           {{"steps", c.steps},
            {"lr", c.lr},
            {"weight_decay", c.weight_decay},
            {"warmup_steps", c.warmup_steps},
            {"decay", c.decay},
            {"min_lr", c.min_lr},
            {"grad_clip", c.grad_clip},
            {"beta1", c.beta1},
            {"beta2", c.beta2},
            {"eps", c.eps}}},
          {"encoders",
           {{"freeze_vision", c.freeze_vision},
            {"freeze_text", c.freeze_text},
            {"hf_dinov2", c.hf_dinov2},
            {"hf_siglip", c.hf_siglip},
            {"hf_t5", c.hf_t5}}},
          {"checkpoint_every", c.checkpoint_every},
          {"keep_last", c.keep_last},
          {"log_every", c.log_every}};
}

std::string TrainConfigHash(const TrainConfig& config) {
  json j = TrainConfigToJson(config);
  for (const char* key : {"output_dir", "checkpoint_every", "keep_last", "log_every", "name"}) j.erase(key);
  if (config.decay == "constant") {
    // A constant rate does not depend on the run's length, so a finished run may be extended; runs from
    // before the schedule existed keep their fingerprints.
    j["optim"].erase("steps");
    j["optim"].erase("decay");
    j["optim"].erase("min_lr");
  }
  // Without a grasp boost the batches are those of runs from before it existed; they keep their fingerprints.
  if (config.grasp_boost == 1.0) j["data"].erase("grasp_boost");
  j["data"].erase("workers");           // the loader's batches do not depend on its thread count
  j["data"].erase("prefetch_batches");
  return Fnv1aHex(j.dump());
}

std::string Fnv1aHex(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", h);
}

double LearningRateAt(const TrainConfig& config, int64_t step) {
  if (step + 1 < config.warmup_steps) {
    return config.lr * static_cast<double>(step + 1) / static_cast<double>(config.warmup_steps);
  }
  if (config.decay != "cosine") return config.lr;
  const int64_t start = std::max<int64_t>(config.warmup_steps, 1);  // the first step at the full rate, 1-based
  const int64_t span = std::max<int64_t>(1, config.steps - start);
  const double done = std::clamp(static_cast<double>(step + 1 - start) / span, 0.0, 1.0);
  return config.min_lr + (config.lr - config.min_lr) * 0.5 * (1.0 + std::cos(M_PI * done));
}

}  // namespace mivla::trainer
