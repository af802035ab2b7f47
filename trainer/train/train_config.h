// File: train_config.h
// mivla-train's configuration as data: one JSON file (`--config FILE`; flags override single fields).
// Every field has a default; unknown keys are errors (a misspelt key must not silently train with a
// default). Errors name the file and the field, e.g.
//   "runs/a.json: optim.lr: expected a number, got \"fast\"".
// The layout (trainer/README.md lists every field):
//   {"name": "tiny-pretrain", "model": "tiny" | "init_checkpoint": "pre.mivla", "model_overrides": {...},
//    "output_dir": "...",
//    "seed": 0, "device": "auto", "precision": "fp32",
//    "data": {"sources": [{"name", "path", "weight", "robotwin_embodiment", "grasp_boost"}], "target_embodiment",
//             "batch_size", "workers", "prefetch_batches", "cameras", "tokenizer", "embodiment_dir",
//             "cache_dir", "augment": {...}, "grasp_boost": {"factor", "before_s", "after_s"}},
//    "loss": {"robot", "robot_to_human", "human", "human_to_robot", "complement_weight"},
//    "optim": {"steps", "lr", "weight_decay", "warmup_steps", "decay", "min_lr", "grad_clip", "beta1", "beta2",
//              "eps"},
//    "encoders": {"freeze_vision", "freeze_text", "hf_dinov2", "hf_siglip", "hf_t5"},
//    "checkpoint_every", "keep_last", "log_every"}
// Pure functions; thread-safe.
#ifndef MIVLA_TRAINER_TRAIN_TRAIN_CONFIG_H_
#define MIVLA_TRAINER_TRAIN_TRAIN_CONFIG_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mivla::trainer {

struct SourceConfig {
  std::string name;
  std::string path;
  double weight = 1.0;
  std::string robotwin_embodiment = "aloha";  // which robot a RoboTwin-layout dataset holds
  std::optional<double> grasp_boost{};        // this source's data.grasp_boost factor (unset: the data's)
};

struct TrainConfig {
  std::string name = "mivla";        // checkpoint files are <name>-<step, 8 digits>.mivla
  std::string model = "tiny";        // model config by name (pretrain)
  // Pretrain: a JSON object merged (RFC 7386 merge patch) over the named config's JSON before the model
  // is built, e.g. {"dino": {"image_size": 112, "position_grid": 8}}; the result is validated and stored
  // in every checkpoint, so the server builds the same model. Empty object: the named config unchanged.
  nlohmann::json model_overrides = nlohmann::json::object();
  std::string init_checkpoint;       // fine-tune: start from this checkpoint's weights and config
  bool keep_normalization = true;    // fine-tune: keep the checkpoint's statistics (else recompute)
  std::string output_dir = "runs/mivla";
  uint64_t seed = 0;
  std::string device = "auto";       // cpu, cuda, cuda:N, auto
  std::string precision = "fp32";    // fp32, bf16 (autocast, CUDA only)

  // Data (the loader's LoaderOptions).
  std::vector<SourceConfig> sources;
  std::string target_embodiment = "piper";  // whose kinematics fill a human sample's robot slots
  int64_t batch_size = 16;                  // per rank
  int64_t workers = 2;
  int64_t prefetch_batches = 4;
  std::vector<std::string> cameras;         // empty: every camera an episode has, up to max_views
  std::string tokenizer;                    // SentencePiece model file
  std::string embodiment_dir;               // robot descriptions for IK (empty: built-in)
  std::string cache_dir;                    // complement cache (empty: <source>/.mivla_complements beside each
                                            // dataset; <output_dir>/complement_cache when that cannot be written)
  nlohmann::json augment = nlohmann::json::object();  // passed to the loader's AugmentOptions
  // Frames from before_s before to after_s after a robot's gripper closes are drawn `grasp_boost` times as
  // often as the others of their source (trainer/train/grasp_weights.h); 1 = off.
  double grasp_boost = 1.0, grasp_before_s = 1.5, grasp_after_s = 0.5;

  // Loss terms (paper's ablation).
  bool loss_robot = true, loss_robot_to_human = true, loss_human = true, loss_human_to_robot = true;
  double complement_weight = 1.0;

  // Optimiser: AdamW, linear warm-up, then constant (the paper) or a half cosine down to min_lr at `steps`.
  int64_t steps = 1000;
  double lr = 1e-4;
  double weight_decay = 0.01;
  int64_t warmup_steps = 100;
  std::string decay = "constant";  // "constant" or "cosine"
  double min_lr = 0.0;             // the cosine's end, reached at `steps`
  double grad_clip = 1.0;  // max global grad norm; <= 0: no clipping
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;        // Adam's epsilon (PyTorch's default)

  // Encoders.
  bool freeze_vision = false, freeze_text = false;
  std::string hf_dinov2, hf_siglip, hf_t5;  // HuggingFace safetensors files (empty: none)

  int64_t checkpoint_every = 500;
  int64_t keep_last = 3;
  int64_t log_every = 10;
};

/// Parses a configuration; `origin` (the file name) prefixes every error.
absl::StatusOr<TrainConfig> ParseTrainConfig(const std::string& json_text, const std::string& origin);
/// Reads and parses a file; NOT_FOUND names it when it cannot be read.
absl::StatusOr<TrainConfig> LoadTrainConfig(const std::string& path);
/// Checks values (positive sizes, known names, a source list); errors name the field.
absl::Status ValidateTrainConfig(const TrainConfig& config, const std::string& origin);

nlohmann::json TrainConfigToJson(const TrainConfig& config);
/// Hash of everything that shapes the trajectory of weights (all but steps, output and logging
/// cadence), hex; a resume refuses a state written under another hash.
std::string TrainConfigHash(const TrainConfig& config);

/// FNV-1a 64 of `text`, 16 hex digits: the trainer's fingerprints (configuration, data, checkpoints).
std::string Fnv1aHex(const std::string& text);

/// Warm-up then constant: lr * min(1, (step + 1) / warmup_steps) for the update that makes `step` + 1.
double LearningRateAt(const TrainConfig& config, int64_t step);

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_TRAIN_CONFIG_H_
