// File: ablation_config.h
// The configuration of `mivla-train ablation` (JSON; trainer/README.md "Ablation" lists every field):
//
//   {"output_dir": "runs/ablation", "model": "tiny", "model_overrides": {...},
//    "datagen": [{"name", "task", "embodiment", "episodes", "mode", "seed"}], "datagen_workers": 0,
//    "pretrain": {"base": {TrainConfig fields}, "variants": [{"name", "label", "pretrain",
//                 "sources": ["set" | {"set", "weight"}], "loss": {...}}]},
//    "finetune": {"base": {TrainConfig fields}, "sources": [...]},
//    "eval": {"embodiment", "tasks", "modes", "episodes", "seed", "parallel", "server_flags",
//             "eval_flags", "server_start_timeout_s"},
//    "stop_grace_s": 300}
//
// Unknown keys and bad values are errors naming the file and the field
// ("runs/a.json: pretrain.variants[1].sources[0]: no datagen set named 'hum'"). The TrainConfig
// objects are checked by the stage plan (stage_plan.h), which builds the real train configs from them.
// Pure functions; thread-safe.
#ifndef MIVLA_TRAINER_ABLATION_ABLATION_CONFIG_H_
#define MIVLA_TRAINER_ABLATION_ABLATION_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace mivla::trainer::ablation {

struct DatagenSet {
  std::string name;        // data/<name>; [A-Za-z0-9_-]
  std::string task;        // a sim task (mivla-datagen --list)
  std::string embodiment;  // human, piper, arx5, locoman, aloha
  int64_t episodes = 0;
  std::string mode = "easy";
  int64_t seed = 0;
};

struct SourceRef {
  std::string set;      // a DatagenSet name
  double weight = 1.0;  // the loader's sampling weight
};

struct Variant {
  std::string name;                     // pretrain/<name>, finetune/<name>; [A-Za-z0-9_-]
  std::string label;                    // for the tables ("human only")
  bool pretrain = true;                 // false: fine-tune a fresh model ("no pre-training")
  std::vector<SourceRef> sources;       // pre-training data (required when pretrain)
  nlohmann::json loss = nlohmann::json::object();  // merged over pretrain.base's "loss"
};

struct EvalSpec {
  std::string embodiment = "piper";
  std::vector<std::string> tasks;       // required
  std::vector<std::string> modes = {"easy", "hard"};
  int64_t episodes = 20;                // per (variant, task, mode); seeds seed .. seed + episodes - 1
  int64_t seed = 100000;
  int64_t parallel = 1;                 // mivla-eval --parallel
  std::vector<std::string> server_flags;  // extra mivla-server flags
  std::vector<std::string> eval_flags;    // extra mivla-eval flags
  double server_start_timeout_s = 120;
};

struct AblationConfig {
  std::string path;                     // the file it came from (errors name it)
  std::string output_dir;               // required
  std::string model = "tiny";
  nlohmann::json model_overrides = nlohmann::json::object();
  std::vector<DatagenSet> datagen;
  int64_t datagen_workers = 0;          // mivla-datagen --workers (0: its default)
  nlohmann::json pretrain_base = nlohmann::json::object();
  std::vector<Variant> variants;
  nlohmann::json finetune_base = nlohmann::json::object();
  std::vector<SourceRef> finetune_sources;
  EvalSpec eval;
  double stop_grace_s = 300;            // SIGTERM -> SIGKILL grace for a child at the deadline
};

/// Parses and checks the whole file (names, references between sections, values).
absl::StatusOr<AblationConfig> ParseAblationConfig(const std::string& json_text, const std::string& path);
/// Reads and parses; NOT_FOUND names the file.
absl::StatusOr<AblationConfig> LoadAblationConfig(const std::string& path);

}  // namespace mivla::trainer::ablation

#endif  // MIVLA_TRAINER_ABLATION_ABLATION_CONFIG_H_
