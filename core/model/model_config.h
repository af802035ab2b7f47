// File: model_config.h
// MiVLA's configuration as data: plain structs with defaults, serialised as JSON into every checkpoint.
// `TinyConfig()` trains on a CPU in minutes (tests, CI, the bundled demo checkpoint); `BaseConfig()` has
// the paper's encoders and token counts (DINOv2-B/14 at 196 px + SigLIP-B/16 at 224 px = 196 + 196
// tokens per view, T5-v1.1-base text encoder).
#ifndef MIVLA_CORE_MODEL_MODEL_CONFIG_H_
#define MIVLA_CORE_MODEL_MODEL_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"

namespace mivla::model {

/// A ViT image tokenizer. style "dinov2": CLS token, layer scale, exact GELU, learned position
/// embedding for `position_grid`² patches (+CLS), bicubically interpolated to the input grid, ImageNet
/// mean/std. style "siglip": no CLS, tanh-GELU, position embedding for exactly (image_size/patch)²
/// patches, post-layernorm, mean = std = 0.5.
struct VitConfig {
  std::string style = "dinov2";
  int image_size = 56;     // input pixels (square)
  int patch_size = 14;
  int width = 64;
  int depth = 2;
  int heads = 2;
  int mlp_dim = 128;
  double eps = 1e-6;
  int position_grid = 4;   // dinov2: side of the stored position grid (37 for HF checkpoints at 518 px)

  int grid() const { return image_size / patch_size; }
  /// Patch tokens per image (excluding CLS).
  int num_patches() const { return grid() * grid(); }
};

/// A T5 encoder (relative position buckets, RMSNorm, gated GELU, no 1/sqrt(d) scaling).
struct T5Config {
  int vocab_size = 512;
  int d_model = 64;
  int d_kv = 16;
  int heads = 4;
  int d_ff = 128;
  int layers = 2;
  int num_buckets = 32;
  int max_distance = 128;
  double eps = 1e-6;
  int max_tokens = 32;  // instructions are truncated to this many tokens (EOS included)
};

/// The DiT action decoder (H-RDT-like blocks).
struct DecoderConfig {
  int width = 256;
  int depth = 4;
  int heads = 2;
  int ffn_dim = 768;        // SwiGLU inner size
  int action_horizon = 16;  // H
  int sampling_steps = 5;   // K Euler steps
  int frequency_dim = 256;  // sinusoidal timestep features
  double eps = 1e-5;
};

struct ModelConfig {
  std::string name = "tiny";
  VitConfig dino;
  VitConfig siglip;
  T5Config text;
  DecoderConfig decoder;
  int max_views = 3;
  double control_rate_hz = 10.0;  // default rate the action chunk's steps are spaced at
  bool freeze_vision = false;
  bool freeze_text = false;

  /// Vision tokens per view (DINOv2 patches + SigLIP patches).
  int vision_tokens_per_view() const { return dino.num_patches() + siglip.num_patches(); }
};

ModelConfig TinyConfig();
ModelConfig BaseConfig();
/// "tiny" or "base".
absl::StatusOr<ModelConfig> ConfigByName(const std::string& name);

/// Checks internal consistency (positive sizes, divisibility of widths by heads, ...).
absl::Status ValidateConfig(const ModelConfig& config);

std::string ConfigToJson(const ModelConfig& config);
/// Unknown keys are ignored (configs are additive); missing keys take defaults; wrong types are
/// errors naming the key.
absl::StatusOr<ModelConfig> ConfigFromJson(const std::string& json);

bool operator==(const ModelConfig& a, const ModelConfig& b);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_MODEL_CONFIG_H_
