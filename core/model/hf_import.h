// File: hf_import.h
// HuggingFace weights <-> our encoder modules, by tensor name:
//   dinov2: Dinov2Model names (embeddings.*, encoder.layer.{i}.*, layernorm.*); embeddings.mask_token
//           and anything else unmapped are ignored.
//   siglip: SiglipVisionModel names (vision_model.embeddings.*, vision_model.encoder.layers.{i}.*,
//           vision_model.post_layernorm.*); vision_model.head.* is ignored.
//   t5:     T5EncoderModel names (shared.weight, or encoder.embed_tokens.weight when shared.weight is
//           absent; encoder.block.{i}.layer.{0,1}.*, encoder.final_layer_norm.weight). Only the gated
//           (v1.1) feed-forward (wi_0, wi_1) is supported.
// Variants that would import without a missing tensor yet compute something else are refused
// (INVALID_ARGUMENT naming the tensor), by import and inference alike: DINOv2 with register tokens
// (embeddings.register_tokens) or a SwiGLU MLP (mlp.weights_in), and UMT5 (a relative bias per block).
// Activations and attention heads are in no tensor: a gated-silu T5 would import and run with gelu_new,
// and a ViT gets the `defaults`' heads. hf_config.h applies (or refuses) what the model's config.json says.
// Every name is looked up as `prefix + name`. Import is all-or-nothing: every tensor is fetched and
// checked before any parameter changes; a missing tensor or a shape mismatch is an error naming the
// tensor and both shapes. Floating inputs of any width (F16, BF16, F64) are converted to the
// parameter's dtype; integer tensors are rejected.
//
// Thread safety: Import* mutate the module (no concurrent forward); Export*/Infer* only read.
#ifndef MIVLA_CORE_MODEL_HF_IMPORT_H_
#define MIVLA_CORE_MODEL_HF_IMPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/model_config.h"
#include "core/model/safetensors.h"
#include "core/model/t5_encoder.h"
#include "core/model/vit_encoder.h"

namespace mivla::model {

/// (our parameter name, HF tensor name without prefix) for every parameter of a module so configured.
std::vector<std::pair<std::string, std::string>> VitHfNames(const VitConfig& config);
std::vector<std::pair<std::string, std::string>> T5HfNames(const T5Config& config);

absl::Status ImportHfVit(const SafetensorsFile& file, VitEncoderImpl& vit, const std::string& prefix = "");
absl::Status ImportHfT5(const SafetensorsFile& file, T5EncoderImpl& t5, const std::string& prefix = "");

/// The module's weights under HF names (detached CPU copies), ready for WriteSafetensors. T5's
/// embedding is written once, as `shared.weight`.
absl::StatusOr<NamedTensors> ExportHfVit(const VitEncoderImpl& vit, const std::string& prefix = "");
absl::StatusOr<NamedTensors> ExportHfT5(const T5EncoderImpl& t5, const std::string& prefix = "");

/// A VitConfig from a HF file's shapes. The style is detected from the names (dinov2 or siglip);
/// width, patch_size, depth, mlp_dim, and position_grid (dinov2) or image_size (siglip) come from
/// shapes; heads, eps and dinov2's image_size (the input size, free) are taken from `defaults`.
absl::StatusOr<VitConfig> InferVitConfig(const SafetensorsFile& file, const VitConfig& defaults,
                                         const std::string& prefix = "");
/// A T5Config from shapes: vocab_size, d_model, heads and num_buckets (relative bias table), d_kv,
/// d_ff, layers. max_distance, eps and max_tokens come from `defaults`.
absl::StatusOr<T5Config> InferT5Config(const SafetensorsFile& file, const T5Config& defaults,
                                       const std::string& prefix = "");

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_HF_IMPORT_H_
