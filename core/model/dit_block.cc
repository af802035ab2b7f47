#include "core/model/dit_block.h"

#include <vector>

#include <torch/torch.h>

namespace mivla::model {
namespace {

torch::nn::LayerNorm Norm(int64_t width, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(eps));
}

}  // namespace

DitBlockImpl::DitBlockImpl(const DecoderConfig& c) {
  const int64_t w = c.width;
  norm1_ = register_module("norm1", Norm(w, c.eps));
  norm2_ = register_module("norm2", Norm(w, c.eps));
  norm3_ = register_module("norm3", Norm(w, c.eps));
  norm4_ = register_module("norm4", Norm(w, c.eps));
  img_cond_norm_ = register_module("img_cond_norm", Norm(w, c.eps));
  self_attn_ = register_module("self_attn", Attention(w, c.heads, w, c.eps));
  vision_attn_ = register_module("vision_attn", Attention(w, c.heads, w, c.eps));
  language_attn_ = register_module("language_attn", Attention(w, c.heads, w, c.eps));
  ffn_ = register_module("ffn", SwiGlu(w, c.ffn_dim));
  ada_ln_ = register_module("ada_ln", torch::nn::Linear(w, 9 * w));
  XavierInitLinears(*this);
  ZeroLinear(ada_ln_);
}

BlockContext DitBlockImpl::PrepareContext(const torch::Tensor& vision, const torch::Tensor& vision_mask,
                                          const torch::Tensor& text, const torch::Tensor& text_mask) {
  BlockContext ctx;
  ctx.vision = vision_attn_->ProjectContext(img_cond_norm_->forward(vision), vision_mask);
  ctx.language = language_attn_->ProjectContext(text, text_mask);
  return ctx;
}

torch::Tensor DitBlockImpl::forward(torch::Tensor x, const torch::Tensor& c, const BlockContext& ctx) {
  std::vector<torch::Tensor> m = ada_ln_->forward(torch::silu(c)).chunk(9, -1);
  // m: shift/scale/gate for self-attention (0-2), vision cross-attention (3-5), feed-forward (6-8).
  x = x + m[2].unsqueeze(1) * self_attn_->SelfAttend(Modulate(norm1_->forward(x), m[0], m[1]));
  x = x + m[5].unsqueeze(1) * vision_attn_->CrossAttend(Modulate(norm2_->forward(x), m[3], m[4]), ctx.vision);
  x = x + language_attn_->CrossAttend(norm3_->forward(x), ctx.language);
  x = x + m[8].unsqueeze(1) * ffn_->forward(Modulate(norm4_->forward(x), m[6], m[7]));
  return x;
}

}  // namespace mivla::model
