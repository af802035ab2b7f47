// File: hf_config.h
// What a HuggingFace model's config.json says that its weights do not. InferVitConfig / InferT5Config
// (hf_import.h) read sizes from tensor shapes; the attention heads of a ViT, the layer-norm epsilon, T5's
// relative-position max distance and the activations are not in any shape, and a wrong value computes
// something else without an error (DINOv2-S's 6 heads read as 12 still divide its width). These
// functions apply the config to a shape-inferred config. A field the file leaves out takes the value of
// transformers' config class, as transformers reads the file (save_pretrained leaves a nested
// vision_config's defaults out: google/siglip-base-patch16-224 states no heads at all): 12 heads,
// epsilon 1e-6, T5's max distance 128 and feed_forward_proj "relu".
//   vit (model_type "dinov2", "siglip_vision_model", or "siglip" with a "vision_config" object):
//     set heads <- num_attention_heads, eps <- layer_norm_eps;
//     refuse (INVALID_ARGUMENT naming the field) a missing or other model_type (e.g.
//     dinov2_with_registers), hidden_act other than the style's ("gelu" for DINOv2, "gelu_pytorch_tanh"
//     for SigLIP), use_swiglu_ffn, num_register_tokens > 0, heads that do not divide the width, and a
//     stated hidden_size, patch_size, num_hidden_layers, mlp_ratio / intermediate_size or (SigLIP)
//     image_size / patch_size that disagrees with the shapes. SigLIP's image_size need not be a
//     multiple of the patch (384 px at patch 14: HF's convolution drops the last 6 pixels; our encoder
//     takes 378 px);
//   t5 (model_type "t5" or "mt5"): set eps <- layer_norm_epsilon, max_distance <-
//     relative_attention_max_distance; refuse a missing or other model_type (umt5), feed_forward_proj
//     other than "gated-gelu" (gated-silu, whose weights look the same; relu, T5 v1.0's and the
//     default), dense_act_fn other than "gelu_new", a max distance not above num_buckets / 4, and a
//     stated d_model, d_kv, d_ff, num_heads, num_layers or relative_attention_num_buckets that
//     disagrees with the shapes.
// Every error names the source and the field.
//
//   ASSIGN_OR_RETURN(std::optional<nlohmann::json> hf, ReadHfConfigBeside(path));
//   if (hf) RETURN_IF_ERROR(ApplyHfVitConfig(*hf, path, &vit_config));
//
// Thread safety: pure functions (ReadHfConfigBeside reads a file).
#ifndef MIVLA_CORE_MODEL_HF_CONFIG_H_
#define MIVLA_CORE_MODEL_HF_CONFIG_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/model_config.h"
#include "nlohmann/json.hpp"

namespace mivla::model {

/// The config.json in the folder of `weights_path` (a HF model folder's model.safetensors): nullopt when
/// there is none; INVALID_ARGUMENT naming the file when it is not a JSON object.
absl::StatusOr<std::optional<nlohmann::json>> ReadHfConfigBeside(const std::string& weights_path);

/// Applies `hf` (see above) to `config`, whose style and sizes came from the weights' shapes. `source`
/// names the weights in errors. On error `config` is unchanged.
absl::Status ApplyHfVitConfig(const nlohmann::json& hf, const std::string& source, VitConfig* config);
absl::Status ApplyHfT5Config(const nlohmann::json& hf, const std::string& source, T5Config* config);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_HF_CONFIG_H_
