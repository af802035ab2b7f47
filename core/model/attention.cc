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
  return x.view({x.size(0), x.size(1), heads_, head_dim_}).transpose(1, 2);
}

KvCache AttentionImpl::ProjectContext(const torch::Tensor& context, const torch::Tensor& key_mask) {
  std::vector<torch::Tensor> kv = wkv_->forward(context).chunk(2, -1);
  KvCache out;
  out.k = norm_k_->forward(Heads(kv[0].contiguous()));
  out.v = Heads(kv[1].contiguous());
  if (key_mask.defined()) {
    auto opts = torch::TensorOptions().dtype(out.k.scalar_type()).device(out.k.device());
    out.bias = torch::zeros({key_mask.size(0), 1, 1, key_mask.size(1)}, opts)
                   .masked_fill(key_mask.logical_not().view({key_mask.size(0), 1, 1, -1}), -1e30);
  }
  return out;
}

torch::Tensor AttentionImpl::Attend(const torch::Tensor& q, const KvCache& kv) {
  torch::Tensor scores = torch::matmul(q, kv.k.transpose(-2, -1)) * (1.0 / std::sqrt(double(head_dim_)));
  if (kv.bias.defined()) scores = scores + kv.bias;
  torch::Tensor out = torch::matmul(torch::softmax(scores, -1), kv.v);  // [B, h, L, hd]
  out = out.transpose(1, 2).reshape({q.size(0), q.size(2), heads_ * head_dim_});
  return wo_->forward(out);
}

torch::Tensor AttentionImpl::SelfAttend(const torch::Tensor& x) {
  torch::Tensor q = norm_q_->forward(Heads(wq_->forward(x)));
  return Attend(q, ProjectContext(x, torch::Tensor()));
}

torch::Tensor AttentionImpl::CrossAttend(const torch::Tensor& x, const KvCache& kv) {
  torch::Tensor q = norm_q_->forward(Heads(wq_->forward(x)));
  return Attend(q, kv);
}

}  // namespace mivla::model
