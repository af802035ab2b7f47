// File: mivla_model.h
// MiVLA: vision tokenizers (DINOv2-style + SigLIP-style ViT per camera view, with a view embedding), a
// T5-style text encoder, three proprioception MLPs and an embodiment token, and the DiT action decoder.
// Inputs are batched tensors, so one forward pass can mix embodiments (each sample carries its tag and
// masks). Encoding (Encode*) and decoding (PrepareDecoding + Velocity, driven by flow_matching.h) are
// separate so a server can batch them as two stages and cache conditions per session.
//
//   MivlaModel model(TinyConfig());
//   ConditionTokens cond = model->Encode(inputs);
//   DecoderContext ctx = model->PrepareDecoding(cond);          // cross-attention K/V, once
//   torch::Tensor actions = EulerSample(*model, ctx, noise, K); // flow_matching.h
//
// Thread-safety: parameters are shared; concurrent forward passes under torch::NoGradGuard are safe,
// training is single-threaded.
#ifndef MIVLA_CORE_MODEL_MIVLA_MODEL_H_
#define MIVLA_CORE_MODEL_MIVLA_MODEL_H_

#include <utility>

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>

#include "core/model/dit_decoder.h"
#include "core/model/layers.h"
#include "core/model/model_config.h"
#include "core/model/t5_encoder.h"
#include "core/model/vit_encoder.h"

namespace mivla::model {

/// One batch of observations. B samples, V <= max_views camera slots, L text tokens.
struct ModelInputs {
  torch::Tensor images;      // [B, V, 3, H, W] float RGB in [0, 1] (any H, W: resized per encoder)
  torch::Tensor view_mask;   // [B, V] bool, true where a camera image is present
  torch::Tensor text_ids;    // [B, L] int64 token ids
  torch::Tensor text_mask;   // [B, L] bool, true for real tokens
  torch::Tensor state;       // [B, 76] normalised proprioception in the unified layout
  torch::Tensor state_mask;  // [B, 76] float 0/1, the embodiment's valid slots
  torch::Tensor embodiment;  // [B] int64 embodiment index (action::Embodiment)
};

class MivlaModelImpl : public torch::nn::Module {
 public:
  explicit MivlaModelImpl(const ModelConfig& config);

  const ModelConfig& config() const { return config_; }

  /// Vision tokens [B, V * tokens_per_view, W] and their mask [B, V * tokens_per_view].
  std::pair<torch::Tensor, torch::Tensor> EncodeVision(const torch::Tensor& images,
                                                       const torch::Tensor& view_mask);
  /// Projected language tokens [B, L, W].
  torch::Tensor EncodeText(const torch::Tensor& ids, const torch::Tensor& mask);
  /// Prefix tokens [B, 4, W]: human, robot-joint, end-effector state tokens and the embodiment token.
  torch::Tensor EncodePrefix(const torch::Tensor& state, const torch::Tensor& state_mask,
                             const torch::Tensor& embodiment);
  ConditionTokens Encode(const ModelInputs& inputs);

  DecoderContext PrepareDecoding(const ConditionTokens& cond) { return decoder_->PrepareContext(cond); }
  torch::Tensor Velocity(const DecoderContext& ctx, const torch::Tensor& x_t, const torch::Tensor& t) {
    return decoder_->forward(ctx, x_t, t);
  }

  /// Frozen encoders run without gradients and keep requires_grad off on their parameters.
  void SetFrozen(bool vision, bool text);

  VitEncoder dino() const { return dino_; }
  VitEncoder siglip() const { return siglip_; }
  T5Encoder text_encoder() const { return text_; }
  DitDecoder decoder() const { return decoder_; }

 private:
  ModelConfig config_;
  VitEncoder dino_{nullptr}, siglip_{nullptr};
  T5Encoder text_{nullptr};
  Mlp dino_proj_{nullptr}, siglip_proj_{nullptr}, text_proj_{nullptr};
  torch::Tensor view_embedding_;    // [max_views, W]
  torch::Tensor source_embedding_;  // [2, W]: DINOv2 tokens, SigLIP tokens
  Mlp state_human_{nullptr}, state_joints_{nullptr}, state_ee_{nullptr};
  torch::nn::Embedding embodiment_{nullptr};
  DitDecoder decoder_{nullptr};
};
TORCH_MODULE(MivlaModel);

/// Parameter count of a module (all parameters, trainable or not).
int64_t CountParameters(const torch::nn::Module& module);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_MIVLA_MODEL_H_
