// File: model_setup.h
// The model a training run starts from, built from its TrainConfig:
//   pretrain  a fresh model of the named config (tiny/base) with model_overrides applied, seeded by the run's seed,
//   with encoder
//             weights imported from HuggingFace safetensors files when given (encoders.hf_dinov2,
//             hf_siglip, hf_t5; the encoder configs are read from the files' shapes, and heads,
//             epsilons and activations from the config.json beside each file: core/model/hf_config.h)
//   finetune  the weights, config, normalisation statistics and tokenizer of init_checkpoint
// Encoders are frozen or trainable as the config says. Errors name the file (and tensor) at fault.
// Thread-compatible (draws from LibTorch's global generator while building a fresh model).
#ifndef MIVLA_TRAINER_TRAIN_MODEL_SETUP_H_
#define MIVLA_TRAINER_TRAIN_MODEL_SETUP_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/action/normalizer.h"
#include "core/model/mivla_model.h"
#include "trainer/train/train_config.h"

namespace mivla::trainer {

enum class TrainMode { kPretrain, kFinetune };

struct InitialModel {
  model::MivlaModel model{nullptr};
  std::optional<action::NormalizationStats> normalization;  // fine-tune: the checkpoint's statistics (the
                                                            // loader fills the dimensions they never saw)
  std::string tokenizer_model;                              // SentencePiece bytes ("" if none)
  std::string origin;                                       // "tiny (fresh)", "<path>", ...
  std::string init_fingerprint;  // fine-tune: the init checkpoint's identity (its version and sections'
                                 // sizes and CRCs, hex); "" for a pretrain
};

/// A checkpoint's identity for resuming: its model version and every section's name, size and CRC-32C
/// (read from the header only), hashed to 16 hex digits. Another file at the same path reads differently.
absl::StatusOr<std::string> CheckpointFingerprint(const std::string& path);

/// pretrain needs config.model (and no init_checkpoint); finetune needs config.init_checkpoint.
/// The tokenizer is ResolveTokenizerModel's, or (finetune, data.tokenizer empty) the checkpoint's.
absl::StatusOr<InitialModel> BuildInitialModel(const TrainConfig& config, TrainMode mode);

/// The named model config (config.model) with config.model_overrides merged over its JSON (RFC 7386).
/// INVALID_ARGUMENT "model_overrides.<path>: ..." for a key the model config does not have, a value of the
/// wrong type, or a merged config that fails model::ValidateConfig.
absl::StatusOr<model::ModelConfig> ConfigWithOverrides(const TrainConfig& config);

/// The SentencePiece bytes named by data.tokenizer (checked to load). When it is empty: pretrain takes
/// the bundled tiny model (tokenizer::kTinyTokenizerModelPath, looked up from the working directory,
/// then from the executable's directory and up to four of its parents); finetune returns "" (the
/// checkpoint's tokenizer is used). INVALID_ARGUMENT naming `data.tokenizer` and the reason otherwise.
absl::StatusOr<std::string> ResolveTokenizerModel(const TrainConfig& config, TrainMode mode);

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_MODEL_SETUP_H_
