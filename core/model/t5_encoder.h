// File: t5_encoder.h
// A T5(-v1.1) encoder computing what HuggingFace's T5EncoderModel computes:
//   x = shared_embedding(ids)   (no scaling)
//   per layer: x += o(attn(rms1 x) + position_bias + mask); x += wo(gelu_new(wi_0 h) · wi_1 h), h = rms2 x
//   output = final_rms(x)
// RMSNorm: x · rsqrt(mean(x²) + eps) · weight, variance in fp32, no mean subtraction, no bias.
// Attention scores are q·kᵀ WITHOUT 1/√d scaling. The relative position bias comes from block 0's
// table (num_buckets × heads) and is reused by every layer. Padding keys are masked with the dtype's
// lowest value (as HF does); outputs at padding query positions are computed but meaningless.
//
// Parameters (our names; hf_import.h maps them to HuggingFace names): embed.weight,
// relative_bias.weight, blocks.{i}.{q,k,v,o,wi0,wi1,wo}.weight, blocks.{i}.{ln_attn,ln_ff},
// final_ln.
//
// Thread safety: forward only reads parameters; concurrent calls are safe while nobody trains or
// loads weights into the module. Shape errors throw c10::Error.
#ifndef MIVLA_CORE_MODEL_T5_ENCODER_H_
#define MIVLA_CORE_MODEL_T5_ENCODER_H_

#include <torch/torch.h>

#include "absl/status/status.h"
#include "core/model/model_config.h"

namespace mivla::model {

absl::Status ValidateT5Config(const T5Config& config);

/// HF's T5Attention._relative_position_bucket: `relative_position` = key − query (int64 tensor) ->
/// bucket ids (int64). Bidirectional: half the buckets for each sign (positive offsets add
/// num_buckets/2); offsets below max_exact = (half)/2 map exactly, larger ones log-spaced up to
/// max_distance, clamped to the last bucket.
torch::Tensor T5RelativePositionBucket(const torch::Tensor& relative_position, bool bidirectional,
                                       int64_t num_buckets, int64_t max_distance);

/// RMS layer norm (T5LayerNorm).
torch::Tensor T5RmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

class T5BlockImpl : public torch::nn::Module {
 public:
  explicit T5BlockImpl(const T5Config& config);
  /// x [B, L, d_model]; bias [B or 1, heads, L, L] (position bias + additive mask).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias);

 private:
  int64_t heads_, d_kv_;
  double eps_;
  torch::Tensor ln_attn_, ln_ff_;
  torch::nn::Linear q_{nullptr}, k_{nullptr}, v_{nullptr}, o_{nullptr}, wi0_{nullptr}, wi1_{nullptr}, wo_{nullptr};
};
TORCH_MODULE(T5Block);

class T5EncoderImpl : public torch::nn::Module {
 public:
  /// Throws c10::Error when ValidateT5Config fails. Initialisation follows HF's T5 init scheme.
  explicit T5EncoderImpl(const T5Config& config);

  /// ids [B, L] int64 in [0, vocab); mask [B, L] (1 = token, 0 = pad; any numeric or bool dtype)
  /// -> [B, L, d_model].
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask);
  /// The relative position bias [1, heads, query_len, key_len].
  torch::Tensor PositionBias(int64_t query_len, int64_t key_len) const;

  const T5Config& config() const { return config_; }

 private:
  T5Config config_;
  torch::nn::Embedding embed_{nullptr};
  torch::nn::Embedding relative_bias_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  torch::Tensor final_ln_;
};
TORCH_MODULE(T5Encoder);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_T5_ENCODER_H_
