// File: torch_policy_runtime.h
// TorchPolicyRuntime: the LibTorch PolicyRuntime. One model version: the checkpoint's PolicyBundle
// (config, normalisation, weights) on its device, its tokenizer, an instruction cache and preallocated
// staging tensors.
//   Encode: writes each observation's images ([3, S, S] floats in [0, 1]), tokenized instruction and
//           normalised proprioception (clamped to +-100) into staging rows (JPEG images, with a JPEG
//           decoder, are decoded and resized for the whole batch on the device: device_images.h),
//           then runs the vision encoders, the text encoder (each distinct instruction once, through
//           the cache) and the prefix MLPs once for the batch; each handle holds its row of the
//           condition tokens.
//   Decode: copies the handles' tokens into staging rows, draws each item's noise from its own seed,
//           runs the K-step Euler sampler once for the batch and de-normalises each chunk with the
//           version's statistics (slots outside the embodiment's mask are 0). With CUDA graphs on, the
//           plain items' decode replays a graph captured per batch bucket (core/model/graphed_sampler.h;
//           Warm captures every bucket up to its batch size). Items with an executed
//           prefix (real-time chunking) are sampled apart, by the guided sampler (torch_decode.cc).
// Built by TorchRuntimeLoader (torch_runtime_loader.h) or directly from a bundle (tests).
//
// Thread-safety: as PolicyRuntime; forward passes run under torch::InferenceMode (guided ones with autograd,
// gradients to the sample only) and may overlap.
#ifndef MIVLA_SERVER_RUNTIME_TORCH_POLICY_RUNTIME_H_
#define MIVLA_SERVER_RUNTIME_TORCH_POLICY_RUNTIME_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/checkpoint/model_checkpoint.h"
#include "core/model/graphed_sampler.h"
#include "core/model/guided_sampling.h"
#include "core/model/instruction_cache.h"
#include "core/model/runtime.h"
#include "core/tokenizer/tokenizer.h"
#include "server/runtime/device_images.h"
#include "server/runtime/staging_buffers.h"
#include "server/runtime_api/policy_runtime.h"

namespace mivla::server {

class TorchPolicyRuntime : public PolicyRuntime {
 public:
  struct Options {
    model::RuntimeOptions runtime;
    /// Tokenizer used when the checkpoint carries none (serialized SentencePiece model bytes).
    std::string fallback_tokenizer;
    size_t instruction_cache_capacity = 1024;
    /// Real-time chunking: the guided sampler's settings for items with an executed prefix.
    model::InpaintingOptions inpainting;
    /// The GPU path: plain decodes through CUDA graphs, buckets up to this many rows (0: off). Create
    /// refuses it off CUDA or in a build without CUDA graphs.
    int cuda_graph_max_batch = 0;
    /// With cuda_graph_max_batch: the same buckets run op by op instead of captured (any device; the
    /// CPU tests of this wiring, and a GPU baseline with static buffers but no graph).
    bool buckets_without_capture = false;
    /// The GPU path's images: set, the runtime takes JPEG images as received (RuntimeInfo::decodes_jpeg)
    /// and decodes (this decoder) and resizes (ResizeOnDevice) each batch's on its device; null, the
    /// server's image pool decodes and resizes them. Decoded images are taken in both cases.
    std::shared_ptr<const JpegDecoder> jpeg_decoder;
  };

  /// INVALID_ARGUMENT when the bundle has no model or no usable tokenizer. Moves the model to the device.
  static absl::StatusOr<std::unique_ptr<TorchPolicyRuntime>> Create(checkpoint::PolicyBundle bundle,
                                                                    const Options& options);

  const RuntimeInfo& info() const override { return info_; }
  std::vector<absl::StatusOr<ConditionPtr>> Encode(absl::Span<const RuntimeObservation* const> batch) const override;
  std::vector<absl::StatusOr<ChunkValues>> Decode(absl::Span<const DecodeItem> batch) const override;
  absl::Status Warm(int max_batch_size) const override;

  const model::ModelConfig& config() const { return bundle_.config; }
  const action::NormalizationStats& normalization() const { return bundle_.normalization; }
  /// Staging tensor (re)allocations so far (steady state: no growth).
  int64_t staging_allocations() const { return staging_.allocations(); }
  const model::InstructionCache& instruction_cache() const { return *instruction_cache_; }
  /// Decode buckets built (graphs captured) so far; 0 without CUDA graphs (GraphedSampler::builds).
  int64_t decode_bucket_builds() const { return graphed_ ? graphed_->builds() : 0; }

 private:
  TorchPolicyRuntime() = default;
  model::MivlaModelImpl& model() const { return *bundle_.model.ptr(); }

  checkpoint::PolicyBundle bundle_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<model::InstructionCache> instruction_cache_;
  model::RuntimeOptions runtime_;
  model::InpaintingOptions inpainting_;
  int image_size_ = 0;
  RuntimeInfo info_;
  mutable StagingPool staging_;
  std::unique_ptr<model::GraphedSampler> graphed_;  // CUDA graphs on; null otherwise
  std::shared_ptr<const JpegDecoder> jpeg_decoder_;  // images decoded on the device; null otherwise
  std::unique_ptr<ResizeWeightCache> resize_weights_ = std::make_unique<ResizeWeightCache>();  // for those images
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_TORCH_POLICY_RUNTIME_H_
