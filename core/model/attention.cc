#include "core/model/attention.h"

#include <cmath>

#include <torch/torch.h>

namespace mivla::model {

AttentionImpl::AttentionImpl(int64_t width, int64_t heads, int64_t context_dim, double eps)
    : heads_(heads), head_dim_(width / heads) {
  wq_ = register_module("wq", torch::nn::Linear(torch::nn::LinearOptions(width, width).bias(false)));
  wkv_ = register_module("wkv",
                         torch::nn::Linear(torch::nn::LinearOptions(context_dim, 2 * width).bias(false)));
  wo_ = register_module("wo", torch::nn::Linear(torch::nn::LinearOptions(width, width).bias(false)));
  norm_q_ = register_module("norm_q", RmsNorm(head_dim_, eps));
  norm_k_ = register_module("norm_k", RmsNorm(head_dim_, eps));
}

torch::Tensor AttentionImpl::Heads(const torch::Tensor& x) const {
  return x.view({x.size(0), x.size(1), heads_, head_dim_}).transpose(1, 2).reshape({-1, x.size(1), head_dim_});
}

KvCache AttentionImpl::ProjectContext(const torch::Tensor& context, const torch::Tensor& key_mask) {
  std::vector<torch::Tensor> kv = wkv_->forward(context).chunk(2, -1);
  const int64_t b = context.size(0), lc = context.size(1);
  KvCache out;
  out.k_t = norm_k_->forward(Heads(kv[0])).transpose(1, 2).contiguous();
  out.v = Heads(kv[1]);
  torch::Tensor bias = torch::zeros({b, 1, 1, lc}, out.v.options());
  if (key_mask.defined()) {
    bias = bias.masked_fill(key_mask.logical_not().view({b, 1, 1, lc}), -1e30);
  }
  out.bias = bias.expand({b, heads_, 1, lc}).reshape({b * heads_, 1, lc});
  return out;
}

torch::Tensor AttentionImpl::Attend(const torch::Tensor& q, const KvCache& kv) {
  // q [B*h, L, hd]: one fused scale-and-mask product, softmax, then the values.
  torch::Tensor scores = torch::baddbmm(kv.bias, q, kv.k_t, /*beta=*/1.0, /*alpha=*/1.0 / std::sqrt(double(head_dim_)));
  torch::Tensor out = torch::bmm(torch::softmax(scores, -1), kv.v);  // [B*h, L, hd]
  const int64_t b = out.size(0) / heads_, l = out.size(1);
  out = out.view({b, heads_, l, head_dim_}).transpose(1, 2).reshape({b, l, heads_ * head_dim_});
  return wo_->forward(out);
}

torch::Tensor AttentionImpl::SelfAttend(const torch::Tensor& x) {
  torch::Tensor q = norm_q_->forward(Heads(wq_->forward(x)));
  std::vector<torch::Tensor> kv = wkv_->forward(x).chunk(2, -1);
  KvCache self;
  self.k_t = norm_k_->forward(Heads(kv[0])).transpose(1, 2);
  self.v = Heads(kv[1]);
  self.bias = torch::zeros({x.size(0) * heads_, 1, x.size(1)}, x.options());
  return Attend(q, self);
}

torch::Tensor AttentionImpl::CrossAttend(const torch::Tensor& x, const KvCache& kv) {
  torch::Tensor q = norm_q_->forward(Heads(wq_->forward(x)));
  return Attend(q, kv);
}

}  // namespace mivla::model
