// File: dit_block.h
// One H-RDT-like decoder block. adaLN from the flow-time embedding gives shift/scale/gate for three
// sub-layers:
//   x += gate1 * SelfAttn(modulate(norm1 x))
//   x += gate2 * CrossAttn_vision(modulate(norm2 x), img_cond_norm(vision tokens))
//   x +=         CrossAttn_language(norm3 x, language tokens, key mask)     (no modulation, no gate)
//   x += gate3 * SwiGLU(modulate(norm4 x))
// The adaLN output layer starts at zero, so a fresh block is close to the identity.
#ifndef MIVLA_CORE_MODEL_DIT_BLOCK_H_
#define MIVLA_CORE_MODEL_DIT_BLOCK_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "core/model/attention.h"
#include "core/model/layers.h"
#include "core/model/model_config.h"

namespace mivla::model {

/// A block's projected condition: computed once per request, reused at every sampling step.
struct BlockContext {
  KvCache vision;
  KvCache language;
};

class DitBlockImpl : public torch::nn::Module {
 public:
  explicit DitBlockImpl(const DecoderConfig& config);

  /// vision [B, Nv, W] with vision_mask [B, Nv] (bool); text [B, L, W] with text_mask [B, L] (bool).
  BlockContext PrepareContext(const torch::Tensor& vision, const torch::Tensor& vision_mask,
                              const torch::Tensor& text, const torch::Tensor& text_mask);
  /// x [B, S, W], c [B, W] (flow-time embedding).
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& c, const BlockContext& context);

 private:
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr}, norm3_{nullptr}, norm4_{nullptr};
  torch::nn::LayerNorm img_cond_norm_{nullptr};
  Attention self_attn_{nullptr}, vision_attn_{nullptr}, language_attn_{nullptr};
  SwiGlu ffn_{nullptr};
  torch::nn::Linear ada_ln_{nullptr};
};
TORCH_MODULE(DitBlock);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_DIT_BLOCK_H_
