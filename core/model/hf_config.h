// File: hf_config.h
// What a HuggingFace model's config.json says that its weights do not. InferVitConfig / InferT5Config
// (hf_import.h) read sizes from tensor shapes; the attention heads of a ViT, the layer-norm epsilon, T5's
// relative-position max distance and the activations are not in any shape, and a wrong value computes
// something else without an error (DINOv2-S's 6 heads read as 12 still divide its width). These
// functions apply the config to a shape-inferred config:
//   vit (model_type "dinov2", "siglip_vision_model", or "siglip" with a "vision_config" object):
//     set heads <- num_attention_heads, eps <- layer_norm_eps;
//     refuse (INVALID_ARGUMENT naming the field) hidden_act other than the style's ("gelu" for DINOv2,
//     "gelu_pytorch_tanh" for SigLIP), use_swiglu_ffn, num_register_tokens > 0, and a hidden_size,
//     patch_size, num_hidden_layers, mlp_ratio / intermediate_size or (SigLIP) image_size / patch_size
//     that disagrees with the shapes. SigLIP's image_size need not be a multiple of the patch (384 px at
//     patch 14: HF's convolution drops the last 6 pixels; our encoder takes 378 px);
//   t5 (model_type "t5" or "mt5"): set eps <- layer_norm_epsilon, max_distance <-
//     relative_attention_max_distance; refuse feed_forward_proj other than "gated-gelu" (e.g. gated-silu,
//     whose weights look the same), dense_act_fn other than "gelu_new", and d_model, d_kv, d_ff,
//     num_heads, num_layers or relative_attention_num_buckets that disagree with the shapes.
// Absent fields keep the config's value. Every error names the source and the field.
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
