// File: attention.h
// Multi-head attention of the DiT blocks: bias-free projections, per-head QK RMSNorm, scale 1/sqrt(hd).
// Cross-attention keys/values (and the key-mask bias) are projected once per condition with
// ProjectContext() and reused by every sampling step.
#ifndef MIVLA_CORE_MODEL_ATTENTION_H_
#define MIVLA_CORE_MODEL_ATTENTION_H_

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "core/model/layers.h"

namespace mivla::model {

/// Projected keys and values of a context, laid out for batched matrix products over (sample, head):
/// k_t [B * heads, head_dim, Lc] (keys transposed, contiguous), v [B * heads, Lc, head_dim]; bias
/// [B * heads, 1, Lc] additive (0 for a real token, -1e30 for a masked one; zeros when nothing is masked).
struct KvCache {
  torch::Tensor k_t;
  torch::Tensor v;
  torch::Tensor bias;
};

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t width, int64_t heads, int64_t context_dim, double eps);

  /// Self-attention over x [B, L, width].
  torch::Tensor SelfAttend(const torch::Tensor& x);
  /// Projects a context [B, Lc, context_dim]; key_mask [B, Lc] (bool, true = attend) may be undefined.
  KvCache ProjectContext(const torch::Tensor& context, const torch::Tensor& key_mask);
  /// Cross-attention of x [B, L, width] to a projected context.
  torch::Tensor CrossAttend(const torch::Tensor& x, const KvCache& kv);

 private:
  torch::Tensor Heads(const torch::Tensor& x) const;  // [B, L, W] -> [B * h, L, hd], contiguous
  torch::Tensor Attend(const torch::Tensor& q, const KvCache& kv);

  int64_t heads_;
  int64_t head_dim_;
  torch::nn::Linear wq_{nullptr}, wkv_{nullptr}, wo_{nullptr};
  RmsNorm norm_q_{nullptr}, norm_k_{nullptr};
};
TORCH_MODULE(Attention);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_ATTENTION_H_
