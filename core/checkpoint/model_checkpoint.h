// File: model_checkpoint.h
// A servable model version on disk: a PolicyBundle (config, normalisation statistics, tokenizer model,
// weights, free-form metadata) saved into one checkpoint_file.h container with four sections:
//
//   "config.json"          ConfigToJson(config)
//   "normalization.json"   NormalizationStats::ToJson()
//   "tokenizer.model"      the serialized SentencePiece model, opaque bytes (may be empty)
//   "weights.safetensors"  every parameter and buffer of the model by its LibTorch name: F32, or with
//                          SaveOptions::weights_dtype F16 / BF16 for the floating parameters (buffers
//                          stay F32); the blob's __metadata__ "weights_dtype" names a non-F32 choice
//
// Loading accepts any floating dtype and copies the values into the model's F32 tensors, so a compact
// (F16/BF16) file serves like any other; only the precision of the stored weights differs.
//
// The container's model_version and metadata are the bundle's, unchanged.
//
//   PolicyBundle b;
//   b.model_version = "tiny-000100";
//   b.config = model->config();
//   b.normalization = stats;
//   b.tokenizer_model = spm_bytes;
//   b.metadata["step"] = "100";
//   b.model = model;
//   RETURN_IF_ERROR(SaveModelCheckpoint("/models/tiny-000100.mivla", b));
//   ASSIGN_OR_RETURN(PolicyBundle back, LoadModelCheckpoint("/models/tiny-000100.mivla", torch::kCUDA));
//
// Errors (every message names the path; none of these functions throws or crashes on any input):
//   NOT_FOUND, INVALID_ARGUMENT, DATA_LOSS, FAILED_PRECONDITION from the container (checkpoint_file.h):
//     missing file, not a MiVLA checkpoint, "truncated: ...", "corrupt: ...", "incompatible: ...".
//   FAILED_PRECONDITION "incompatible: <path>: ..." — a required section is missing (named), or the
//     weights do not fit the model the config describes: a missing, unexpected, mis-shaped (both shapes
//     given) or non-floating tensor (named).
//   DATA_LOSS "corrupt: <path>: section '<name>': ..." — a section that passed its checksum but does not
//     parse: invalid JSON, an invalid config, malformed safetensors.
//   INVALID_ARGUMENT from Save: an undefined model, an empty model_version, a model whose own config
//     differs from bundle.config.
//   INTERNAL: a LibTorch error (e.g. a CUDA device that is not available), with its message.
//
// Thread-safety: the functions are reentrant and share no state. Save only reads the model (run no
// training step on it concurrently). Load draws from LibTorch's global generator while it builds the
// model (those initial values are then overwritten by the file's weights).
#ifndef MIVLA_CORE_CHECKPOINT_MODEL_CHECKPOINT_H_
#define MIVLA_CORE_CHECKPOINT_MODEL_CHECKPOINT_H_

#include <map>
#include <string>
#include <string_view>

#include <c10/core/Device.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/action/normalizer.h"
#include "core/model/mivla_model.h"
#include "core/model/model_config.h"

namespace mivla::checkpoint {

inline constexpr char kConfigSection[] = "config.json";
inline constexpr char kNormalizationSection[] = "normalization.json";
inline constexpr char kTokenizerSection[] = "tokenizer.model";
inline constexpr char kWeightsSection[] = "weights.safetensors";

/// Everything a server needs to serve one model version. `model` is a shared holder: copies of a
/// bundle share the same weights.
struct PolicyBundle {
  std::string model_version;
  model::ModelConfig config;
  action::NormalizationStats normalization;
  std::string tokenizer_model;                  // serialized SentencePiece model bytes (may be empty)
  std::map<std::string, std::string> metadata;  // free-form: trained steps, dataset, created_at, ...
  model::MivlaModel model{nullptr};
};

/// How the weights are stored. kF16 halves the file; values beyond F16's range (|x| > 65504) make
/// Save fail naming the tensor (use kBF16 then, which keeps F32's range with 8 mantissa bits).
enum class WeightsDtype { kF32, kF16, kBF16 };

/// "f32" / "f16" / "bf16" (also upper case and "fp16", "fp32"); INVALID_ARGUMENT naming the value.
absl::StatusOr<WeightsDtype> ParseWeightsDtype(std::string_view name);
/// "F32", "F16", "BF16" (safetensors' names).
std::string_view WeightsDtypeName(WeightsDtype dtype);

struct SaveOptions {
  WeightsDtype weights_dtype = WeightsDtype::kF32;  // of the floating parameters; buffers stay F32
};

/// Writes `bundle` to `path` atomically (temporary file, fsync, rename; see WriteCheckpointFile).
/// Weights are written from whatever device and dtype the model is on, as options.weights_dtype.
absl::Status SaveModelCheckpoint(const std::string& path, const PolicyBundle& bundle,
                                 const SaveOptions& options = {});

/// Reads and verifies the whole file, validates the config, builds a fresh model from it, checks that
/// the weights hold exactly the model's tensor names and shapes, copies them in, moves the model to
/// `device` and puts it in eval() mode. All-or-nothing: on error no model is returned.
absl::StatusOr<PolicyBundle> LoadModelCheckpoint(const std::string& path,
                                                 const c10::Device& device = c10::kCPU);

/// The model version recorded in the file, from its verified header only (payloads are not read).
/// Cheap enough for a directory watcher; a file that passes this may still fail LoadModelCheckpoint.
absl::StatusOr<std::string> PeekModelVersion(const std::string& path);

}  // namespace mivla::checkpoint

#endif  // MIVLA_CORE_CHECKPOINT_MODEL_CHECKPOINT_H_
