// File: loaded_model.h
// One servable model version: the checkpoint's PolicyBundle (config, normalisation, weights), its
// tokenizer, an instruction cache, and the model's fixed input geometry. Built by ModelManager and shared
// (std::shared_ptr<const LoadedModel>) by every call that runs on this version; the weights are freed when
// the last holder lets go, so a call that started on a version finishes on it after a hot reload.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<LoadedModel> m, LoadedModel::Create(std::move(bundle), options));
//   RETURN_IF_ERROR(m->Warm(8));  // runs encode + decode at batch 1 and 8 once
//
// Thread-safety: const methods and the model's forward passes (under torch::InferenceMode) may run
// concurrently; the instruction cache is internally locked.
#ifndef MIVLA_SERVER_MODEL_MANAGER_LOADED_MODEL_H_
#define MIVLA_SERVER_MODEL_MANAGER_LOADED_MODEL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/checkpoint/model_checkpoint.h"
#include "core/model/instruction_cache.h"
#include "core/model/runtime.h"
#include "core/tokenizer/tokenizer.h"

namespace mivla::server {

class LoadedModel {
 public:
  struct Options {
    model::RuntimeOptions runtime;
    /// Tokenizer used when the checkpoint carries none (serialized SentencePiece model bytes).
    std::string fallback_tokenizer;
    size_t instruction_cache_capacity = 1024;
  };

  /// INVALID_ARGUMENT when the bundle has no model or no usable tokenizer.
  static absl::StatusOr<std::shared_ptr<LoadedModel>> Create(checkpoint::PolicyBundle bundle,
                                                             const Options& options);

  /// Runs one encode and one decode on synthetic inputs at batch 1 and at `max_batch_size`, so the
  /// first real request does not pay one-time costs, and checks the outputs are finite.
  absl::Status Warm(int max_batch_size) const;

  const std::string& version() const { return bundle_.model_version; }
  const checkpoint::PolicyBundle& bundle() const { return bundle_; }
  const model::ModelConfig& config() const { return bundle_.config; }
  const action::NormalizationStats& normalization() const { return bundle_.normalization; }
  model::MivlaModelImpl& model() const { return *bundle_.model.ptr(); }
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
  model::InstructionCache& instruction_cache() const { return *instruction_cache_; }
  const model::RuntimeOptions& runtime() const { return runtime_; }
  /// Side of the square images the model is fed (the larger of its two vision encoders' sizes).
  int image_size() const { return image_size_; }

 private:
  LoadedModel() = default;

  checkpoint::PolicyBundle bundle_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<model::InstructionCache> instruction_cache_;
  model::RuntimeOptions runtime_;
  int image_size_ = 0;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_MODEL_MANAGER_LOADED_MODEL_H_
