#include "core/model/dit_decoder.h"

#include <string>

#include <torch/torch.h>

namespace mivla::model {

DitDecoderImpl::DitDecoderImpl(const DecoderConfig& c, int action_dim) : config_(c) {
  const int64_t w = c.width;
  action_in_ = register_module("action_in", Mlp(action_dim, w, w, 3));
  position_ = register_parameter(
      "position", torch::randn({1, kPrefixTokens + c.action_horizon, w}) * 0.02);
  time_ = register_module("time", TimestepEmbedder(c.frequency_dim, w));
  for (int i = 0; i < c.depth; ++i) {
    blocks_.push_back(register_module("block" + std::to_string(i), DitBlock(c)));
  }
  final_norm_ = register_module(
      "final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({w}).eps(c.eps).elementwise_affine(false)));
  final_ada_ln_ = register_module("final_ada_ln", torch::nn::Linear(w, 2 * w));
  action_out_ = register_module("action_out", Mlp(w, w, action_dim, 2));
  input_skip_ = register_module("input_skip", torch::nn::Linear(w, action_dim));
  output_gain_ = register_module("output_gain", torch::nn::Linear(w, action_dim));
  XavierInitLinears(*action_in_);
  XavierInitLinears(*time_);
  XavierInitLinears(*action_out_);
  ZeroLinear(final_ada_ln_);
  ZeroLinear(input_skip_);
  ZeroLinear(output_gain_);
  torch::nn::Linear last = action_out_->last();
  ZeroLinear(last);
}

DecoderContext DitDecoderImpl::PrepareContext(const ConditionTokens& cond) {
  DecoderContext ctx;
  ctx.prefix = cond.prefix;
  ctx.blocks.reserve(blocks_.size());
  for (auto& block : blocks_) {
    ctx.blocks.push_back(block->PrepareContext(cond.vision, cond.vision_mask, cond.text, cond.text_mask));
  }
  return ctx;
}

torch::Tensor DitDecoderImpl::forward(const DecoderContext& ctx, const torch::Tensor& x_t,
                                      const torch::Tensor& t) {
  torch::Tensor x = torch::cat({ctx.prefix, action_in_->forward(x_t)}, 1) + position_;
  torch::Tensor c = time_->forward(t);
  for (size_t i = 0; i < blocks_.size(); ++i) x = blocks_[i]->forward(x, c, ctx.blocks[i]);
  x = x.slice(1, kPrefixTokens);
  torch::Tensor sc = torch::silu(c);
  std::vector<torch::Tensor> m = final_ada_ln_->forward(sc).chunk(2, -1);
  torch::Tensor f = action_out_->forward(Modulate(final_norm_->forward(x), m[0], m[1]));
  return (1 + output_gain_->forward(sc).unsqueeze(1)) * f + input_skip_->forward(sc).unsqueeze(1) * x_t;
}

}  // namespace mivla::model
