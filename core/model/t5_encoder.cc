#include "core/model/t5_encoder.h"

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"

namespace mivla::model {
namespace {

torch::nn::Linear NoBias(int64_t in, int64_t out) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
}

// HF's T5PreTrainedModel._init_weights (factor 1.0).
void InitNormal(const torch::Tensor& w, double std) {
  torch::NoGradGuard no_grad;
  w.normal_(0.0, std);
}

}  // namespace

absl::Status ValidateT5Config(const T5Config& c) {
  if (c.vocab_size <= 0 || c.d_model <= 0 || c.d_kv <= 0 || c.heads <= 0 || c.d_ff <= 0 || c.layers < 0 ||
      c.num_buckets < 2 || c.max_distance <= 0 || c.eps <= 0) {
    return absl::InvalidArgumentError("t5: sizes must be positive (num_buckets >= 2)");
  }
  // max_exact = num_buckets / 4 (bidirectional) must be at least 1 and below max_distance for the
  // log-spaced range to exist.
  if (c.num_buckets / 4 < 1 || c.max_distance <= c.num_buckets / 4) {
    return absl::InvalidArgumentError(absl::StrCat("t5: num_buckets ", c.num_buckets, " and max_distance ",
                                                   c.max_distance, " leave no log-spaced range"));
  }
  return absl::OkStatus();
}

torch::Tensor T5RelativePositionBucket(const torch::Tensor& relative_position, bool bidirectional,
                                       int64_t num_buckets, int64_t max_distance) {
  torch::Tensor rel = relative_position.to(torch::kInt64);
  torch::Tensor buckets = torch::zeros_like(rel);
  if (bidirectional) {
    num_buckets /= 2;
    buckets = buckets + (rel > 0).to(torch::kInt64) * num_buckets;
    rel = rel.abs();
  } else {
    rel = -torch::min(rel, torch::zeros_like(rel));
  }
  const int64_t max_exact = num_buckets / 2;
  torch::Tensor is_small = rel < max_exact;
  // log(rel / max_exact) / log(max_distance / max_exact) · (num_buckets − max_exact), truncated toward
  // zero by the cast (non-negative here). rel is clamped to ≥ 1 only to keep log finite where unused.
  // The scalars are doubles like HF's Python floats; the arithmetic runs in fp32 as in HF.
  torch::Tensor large = torch::log(rel.clamp_min(1).to(torch::kFloat32) / static_cast<double>(max_exact)) /
                        std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)) *
                        static_cast<double>(num_buckets - max_exact);
  torch::Tensor if_large = (large.to(torch::kInt64) + max_exact).clamp_max(num_buckets - 1);
  return buckets + torch::where(is_small, rel, if_large);
}

torch::Tensor T5RmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  torch::Tensor variance = x.to(torch::kFloat32).pow(2).mean(-1, /*keepdim=*/true);
  torch::Tensor y = x * torch::rsqrt(variance + eps);
  if (weight.scalar_type() == torch::kFloat16 || weight.scalar_type() == torch::kBFloat16) {
    y = y.to(weight.scalar_type());
  }
  return weight * y;
}

T5BlockImpl::T5BlockImpl(const T5Config& c) : heads_(c.heads), d_kv_(c.d_kv), eps_(c.eps) {
  const int64_t inner = static_cast<int64_t>(c.heads) * c.d_kv;
  ln_attn_ = register_parameter("ln_attn", torch::ones({c.d_model}));
  q_ = register_module("q", NoBias(c.d_model, inner));
  k_ = register_module("k", NoBias(c.d_model, inner));
  v_ = register_module("v", NoBias(c.d_model, inner));
  o_ = register_module("o", NoBias(inner, c.d_model));
  ln_ff_ = register_parameter("ln_ff", torch::ones({c.d_model}));
  wi0_ = register_module("wi0", NoBias(c.d_model, c.d_ff));
  wi1_ = register_module("wi1", NoBias(c.d_model, c.d_ff));
  wo_ = register_module("wo", NoBias(c.d_ff, c.d_model));
  InitNormal(q_->weight, std::pow(static_cast<double>(c.d_model) * c.d_kv, -0.5));
  InitNormal(k_->weight, std::pow(c.d_model, -0.5));
  InitNormal(v_->weight, std::pow(c.d_model, -0.5));
  InitNormal(o_->weight, std::pow(static_cast<double>(inner), -0.5));
  InitNormal(wi0_->weight, std::pow(c.d_model, -0.5));
  InitNormal(wi1_->weight, std::pow(c.d_model, -0.5));
  InitNormal(wo_->weight, std::pow(c.d_ff, -0.5));
}

torch::Tensor T5BlockImpl::forward(const torch::Tensor& x, const torch::Tensor& bias) {
  const int64_t b = x.size(0), l = x.size(1);
  torch::Tensor h = T5RmsNorm(x, ln_attn_, eps_);
  auto split = [&](const torch::Tensor& y) { return y.view({b, l, heads_, d_kv_}).transpose(1, 2); };
  torch::Tensor q = split(q_(h)), k = split(k_(h)), v = split(v_(h));
  torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) + bias;  // no 1/sqrt(d)
  torch::Tensor probs = torch::softmax(scores.to(torch::kFloat32), -1).to(scores.scalar_type());
  torch::Tensor attn = torch::matmul(probs, v).transpose(1, 2).reshape({b, l, heads_ * d_kv_});
  torch::Tensor y = x + o_(attn);
  h = T5RmsNorm(y, ln_ff_, eps_);
  h = torch::gelu(wi0_(h), "tanh") * wi1_(h);  // gelu_new is the tanh approximation
  return y + wo_(h);
}

T5EncoderImpl::T5EncoderImpl(const T5Config& config) : config_(config) {
  const absl::Status valid = ValidateT5Config(config);
  TORCH_CHECK(valid.ok(), std::string(valid.message()));
  embed_ = register_module("embed", torch::nn::Embedding(config.vocab_size, config.d_model));
  relative_bias_ = register_module("relative_bias", torch::nn::Embedding(config.num_buckets, config.heads));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < config.layers; ++i) blocks_->push_back(T5Block(config));
  final_ln_ = register_parameter("final_ln", torch::ones({config.d_model}));
  InitNormal(embed_->weight, 1.0);
  InitNormal(relative_bias_->weight, std::pow(config.d_model, -0.5));
}

torch::Tensor T5EncoderImpl::PositionBias(int64_t query_len, int64_t key_len) const {
  const auto opts = torch::TensorOptions().dtype(torch::kInt64).device(relative_bias_->weight.device());
  torch::Tensor query = torch::arange(query_len, opts).unsqueeze(1);
  torch::Tensor key = torch::arange(key_len, opts).unsqueeze(0);
  torch::Tensor buckets =
      T5RelativePositionBucket(key - query, /*bidirectional=*/true, config_.num_buckets, config_.max_distance);
  return torch::embedding(relative_bias_->weight, buckets).permute({2, 0, 1}).unsqueeze(0);  // [1, heads, q, k]
}

torch::Tensor T5EncoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask) {
  TORCH_CHECK(ids.dim() == 2, "t5: ids must be [B, L], got ", ids.sizes());
  TORCH_CHECK(mask.sizes() == ids.sizes(), "t5: mask ", mask.sizes(), " must match ids ", ids.sizes());
  const int64_t l = ids.size(1);
  torch::Tensor x = embed_(ids.to(torch::kInt64));
  const auto dtype = x.scalar_type();
  const double lowest = dtype == torch::kFloat64 ? std::numeric_limits<double>::lowest()
                        : dtype == torch::kFloat16 ? -65504.0
                        : dtype == torch::kBFloat16 ? -3.3895313892515355e38
                                                    : std::numeric_limits<float>::lowest();
  // [B, 1, 1, L]: 0 where the key is a token, lowest where it is padding.
  torch::Tensor additive = (1.0 - mask.to(dtype)).mul(lowest).view({ids.size(0), 1, 1, l});
  torch::Tensor bias = PositionBias(l, l).to(dtype) + additive;
  for (const auto& block : *blocks_) x = block->as<T5Block>()->forward(x, bias);
  return T5RmsNorm(x, final_ln_, config_.eps);
}

}  // namespace mivla::model
