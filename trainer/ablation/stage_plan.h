// File: stage_plan.h
// The ablation's stages, in the order they run, built from the configuration alone (nothing is read
// from or written to disk):
//
//   data/<set>                   mivla-datagen ... --out <out>/data/<set>
//   pretrain/<v>                 mivla-train pretrain --config <out>/configs/pretrain_<v>.json --resume
//   finetune/<v>                 mivla-train finetune (from pretrain/<v>'s last checkpoint) --resume, or
//                                mivla-train pretrain on the fine-tune data for a variant without
//                                pre-training (a fresh model of the same config, same steps)
//   eval/<v>/<task>/<mode>       mivla-server on finetune/<v>'s last checkpoint + mivla-eval
//   report                       results.json, results.md, ablation.png
//
// Every stage has a spec hash over what it does (its command, generated train config, eval settings)
// and the spec hashes of the stages it depends on, so a finished stage whose inputs changed is redone.
// Pure functions; thread-safe.
#ifndef MIVLA_TRAINER_ABLATION_STAGE_PLAN_H_
#define MIVLA_TRAINER_ABLATION_STAGE_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "trainer/ablation/ablation_config.h"

namespace mivla::trainer::ablation {

struct Binaries {
  std::string datagen, train, server, eval;  // paths of mivla-datagen, mivla-train, mivla-server, mivla-eval
};

enum class StageKind { kData, kPretrain, kFinetune, kEval, kReport };
const char* StageKindName(StageKind kind);

struct Stage {
  std::string name;              // "pretrain/b"
  StageKind kind = StageKind::kData;
  std::string variant, task, mode, set;  // where they apply
  std::vector<std::string> deps;         // names of the stages it needs
  std::vector<std::string> argv;         // data and training stages: the command
  std::string dir;               // data folder / model folder / eval output folder / output_dir
  std::string log_path;          // <out>/logs/<name with / -> _>.log
  int64_t units = 0;             // episodes (data, eval) or steps (training): for progress and ETA
  // Training stages.
  std::string train_config_path; // <out>/configs/<kind>_<v>.json
  nlohmann::json train_config;   // its contents
  std::string final_checkpoint;  // <dir>/<name>-<steps, 8 digits>.mivla
  // Eval stages: the checkpoint served (finetune stage's final_checkpoint) and mivla-eval's command
  // without --server (added once the server listens).
  std::string serve_checkpoint;
  std::string serve_dir;         // <out>/serve/<v>: the server's --model-dir (holds only that file)
  std::vector<std::string> eval_argv;
  std::string spec_hash;         // hex
};

struct Plan {
  std::string output_dir;        // absolute
  std::vector<Stage> stages;     // in run order; every dependency comes before its dependents
};

/// Builds the plan; checks every generated train config with ParseTrainConfig / ValidateTrainConfig
/// (errors name the ablation file and "pretrain.base (variant b)" / "finetune.base (variant a)").
absl::StatusOr<Plan> BuildPlan(const AblationConfig& config, const Binaries& binaries);

/// The stage's folder-safe name ("eval/b/press_bell/easy" -> "eval_b_press_bell_easy").
std::string FlatName(const std::string& stage_name);

/// FNV-1a 64 of `text`, 16 hex digits.
std::string HashHex(const std::string& text);

}  // namespace mivla::trainer::ablation

#endif  // MIVLA_TRAINER_ABLATION_STAGE_PLAN_H_
