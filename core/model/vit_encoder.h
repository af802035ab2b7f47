// File: vit_encoder.h
// A ViT image tokenizer in two styles (VitConfig::style), computing what HuggingFace computes:
//
//  "dinov2" (Dinov2Model): conv patch embedding, CLS token first, learned position embedding for
//    position_grid² patches + CLS, bicubically interpolated in fp32 (align_corners = false, no
//    antialias) to the input grid unless the grids match; pre-norm blocks with layer scale:
//    x += ls1·attn(norm1 x); x += ls2·mlp(norm2 x) with exact (erf) GELU; final layernorm.
//    forward() = last_hidden_state [N, 1 + P, width] (CLS first).
//  "siglip" (SiglipVisionModel): conv patch embedding, no CLS, position embedding for exactly
//    (image_size/patch)² patches; pre-norm blocks without layer scale and tanh-approximated GELU;
//    post_layernorm. forward() = last_hidden_state [N, P, width] (after post_layernorm).
//
// Parameters (our names; hf_import.h maps them to HuggingFace names): patch_embed.{weight,bias},
// pos_embed, cls_token (dinov2), blocks.{i}.{norm1,q,k,v,out,norm2,fc1,fc2}.{weight,bias},
// blocks.{i}.{ls1,ls2} (dinov2), norm.{weight,bias}.
//
// Thread safety: forward/PatchTokens/Preprocess only read parameters; concurrent calls are safe
// while nobody trains or loads weights into the module (LibTorch module semantics). Shape errors
// throw c10::Error, as LibTorch modules do.
#ifndef MIVLA_CORE_MODEL_VIT_ENCODER_H_
#define MIVLA_CORE_MODEL_VIT_ENCODER_H_

#include <torch/torch.h>

#include "absl/status/status.h"
#include "core/model/model_config.h"

namespace mivla::model {

/// Checks style, divisibility (width by heads, image_size by patch_size) and positive sizes.
absl::Status ValidateVitConfig(const VitConfig& config);

/// One pre-norm transformer block (attention + MLP), optionally with layer scale.
class VitBlockImpl : public torch::nn::Module {
 public:
  explicit VitBlockImpl(const VitConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  bool dinov2_;
  int64_t heads_;
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Linear q_{nullptr}, k_{nullptr}, v_{nullptr}, out_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
  torch::Tensor ls1_, ls2_;  // dinov2 only
};
TORCH_MODULE(VitBlock);

class VitEncoderImpl : public torch::nn::Module {
 public:
  /// Throws c10::Error when ValidateVitConfig fails.
  explicit VitEncoderImpl(const VitConfig& config);

  /// pixels [N, 3, H, W], already preprocessed, H and W multiples of patch_size (siglip: exactly
  /// image_size) -> last_hidden_state [N, T, width] (dinov2: T = 1 + P, CLS first; siglip: T = P).
  torch::Tensor forward(const torch::Tensor& pixels);
  /// forward() without the CLS token: [N, P, width].
  torch::Tensor PatchTokens(const torch::Tensor& pixels);
  /// rgb [N, 3, H, W] float in [0, 1] -> [N, 3, S, S] with S = image_size: a bicubic resize of the
  /// whole image (antialiased when shrinking; clamped to [0, 1] like 8-bit processors) and the
  /// style's normalisation (ImageNet mean/std or 0.5/0.5). Simpler than HF's processors: no
  /// shortest-edge resize or centre crop, so non-square inputs are stretched.
  torch::Tensor Preprocess(const torch::Tensor& rgb) const;
  /// The position embedding for a grid_h × grid_w input, [1, (1 +) grid_h·grid_w, width].
  torch::Tensor PositionEmbedding(int64_t grid_h, int64_t grid_w) const;

  const VitConfig& config() const { return config_; }
  /// 1 for dinov2 (CLS), 0 for siglip.
  int64_t num_prefix_tokens() const { return dinov2_ ? 1 : 0; }

 private:
  VitConfig config_;
  bool dinov2_;
  torch::nn::Conv2d patch_embed_{nullptr};
  torch::Tensor cls_token_;  // [1, 1, width], dinov2 only
  torch::Tensor pos_embed_;  // dinov2: [1, 1 + G², width]; siglip: [P, width]
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(VitEncoder);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_VIT_ENCODER_H_
