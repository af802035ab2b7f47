// File: dit_decoder.h
// The diffusion-transformer action decoder: the sequence [prefix tokens (proprioception + embodiment),
// H noisy action tokens] plus a learned position embedding runs through `depth` DiT blocks conditioned on
// the flow time, and a final adaLN layer maps the action tokens to 76-value velocities. The output is
// preconditioned as in EDM (c_skip, c_out), with both gains learned from the flow-time embedding:
// v = c_skip(t) * x_t + c_out(t) * F(...), c_skip = 0 and c_out = 1 at initialisation. The exact
// velocity of a single data point, (a - x_t) / (1 - t), is x_t and a each scaled by a t-dependent gain;
// the gains carry that scaling, so the transformer only has to model the condition-dependent part.
//
//   DecoderContext ctx = decoder->PrepareContext(cond);   // once per request
//   for (k...) v = decoder->forward(ctx, x_t, t);          // once per sampling step
#ifndef MIVLA_CORE_MODEL_DIT_DECODER_H_
#define MIVLA_CORE_MODEL_DIT_DECODER_H_

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "core/model/dit_block.h"
#include "core/model/layers.h"
#include "core/model/model_config.h"

namespace mivla::model {

/// Condition tokens of a batch, all already in the decoder's width W.
struct ConditionTokens {
  torch::Tensor vision;       // [B, Nv, W]
  torch::Tensor vision_mask;  // [B, Nv] bool
  torch::Tensor text;         // [B, L, W]
  torch::Tensor text_mask;    // [B, L] bool
  torch::Tensor prefix;       // [B, P, W] proprioception and embodiment tokens
};

/// Everything the sampler reuses across steps: the prefix and every block's projected keys/values.
struct DecoderContext {
  torch::Tensor prefix;
  std::vector<BlockContext> blocks;
};

class DitDecoderImpl : public torch::nn::Module {
 public:
  static constexpr int kPrefixTokens = 4;  // human, robot-joint and end-effector state, embodiment

  DitDecoderImpl(const DecoderConfig& config, int action_dim);

  DecoderContext PrepareContext(const ConditionTokens& cond);
  /// x_t [B, H, action_dim], t [B] in [0, 1] -> velocity [B, H, action_dim].
  torch::Tensor forward(const DecoderContext& ctx, const torch::Tensor& x_t, const torch::Tensor& t);

 private:
  DecoderConfig config_;
  Mlp action_in_{nullptr};
  torch::Tensor position_;
  TimestepEmbedder time_{nullptr};
  std::vector<DitBlock> blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Linear final_ada_ln_{nullptr};
  Mlp action_out_{nullptr};
  torch::nn::Linear input_skip_{nullptr};  // c_skip(t): per-dimension gain on x_t, from the flow time
  torch::nn::Linear output_gain_{nullptr}; // c_out(t) - 1: per-dimension gain on the transformer's output
};
TORCH_MODULE(DitDecoder);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_DIT_DECODER_H_
