#include "core/model/hf_config.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/json_field.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"

namespace mivla::model {
namespace {

using Json = nlohmann::json;

// transformers' defaults for fields a config.json leaves out (Dinov2Config, SiglipVisionConfig, T5Config).
constexpr int64_t kHfVitHeads = 12;
constexpr double kHfEps = 1e-6;
constexpr int64_t kHfT5MaxDistance = 128;

absl::Status Bad(const std::string& source, const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": config.json ", field, ": ", why));
}

// Reads an optional field of one JSON type; absent or null leaves `out` as it is.
template <typename T>
absl::Status Optional(const Json& hf, const char* field, const std::string& source, std::optional<T>* out) {
  T value{};
  absl::StatusOr<bool> read = ReadJsonField(hf, field, &value, /*null_is_absent=*/true);
  if (!read.ok()) return Bad(source, field, std::string(read.status().message()));
  if (!*read) return absl::OkStatus();
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) return Bad(source, field, absl::StrCat("expected a number, got ", hf[field].dump()));
  }
  *out = value;
  return absl::OkStatus();
}

// A size the file states must be the one its shapes gave.
absl::Status Agrees(const std::optional<int64_t>& stated, int64_t from_shapes, const char* field,
                    const std::string& source) {
  if (!stated.has_value() || *stated == from_shapes) return absl::OkStatus();
  return Bad(source, field, absl::StrCat(*stated, " disagrees with the weights' shapes, which give ", from_shapes));
}

absl::Status PositiveEps(const std::optional<double>& eps, const char* field, const std::string& source) {
  if (eps.has_value() && !(*eps > 0)) return Bad(source, field, absl::StrCat(*eps, " is not > 0"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<Json>> ReadHfConfigBeside(const std::string& weights_path) {
  const std::filesystem::path config = std::filesystem::path(weights_path).parent_path() / "config.json";
  std::error_code ec;
  const bool present = std::filesystem::exists(config, ec);
  if (ec)
    return absl::UnavailableError(absl::StrCat(config.string(), ": cannot tell whether it exists: ", ec.message()));
  if (!present) return std::optional<Json>();
  absl::StatusOr<std::string> text = ReadFile(config.string());
  if (!text.ok()) return text.status();
  Json hf = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (hf.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(config.string(), ": not valid JSON"));
  if (!hf.is_object()) return absl::InvalidArgumentError(absl::StrCat(config.string(), ": not a JSON object"));
  return std::optional<Json>(std::move(hf));
}

absl::Status ApplyHfVitConfig(const Json& hf_in, const std::string& source, VitConfig* config) {
  const bool dino = config->style == "dinov2";
  std::optional<std::string> model_type;
  RETURN_IF_ERROR(Optional(hf_in, "model_type", source, &model_type));
  if (!model_type.has_value()) return Bad(source, "model_type", "absent: not a HuggingFace model config");
  const Json* hf = &hf_in;
  if (!dino && model_type == "siglip") {  // a whole SigLIP (vision and text): its vision tower's config
    const auto it = hf_in.find("vision_config");
    if (it == hf_in.end() || !it->is_object()) return Bad(source, "vision_config", "absent in a siglip config");
    hf = &*it;
    model_type = "siglip_vision_model";
  }
  const char* want_type = dino ? "dinov2" : "siglip_vision_model";
  if (*model_type != want_type) {
    return Bad(source, "model_type",
               absl::StrCat("'", *model_type, "', but the weights are ", config->style, "'s (want '", want_type, "')"));
  }
  std::optional<std::string> act;
  RETURN_IF_ERROR(Optional(*hf, "hidden_act", source, &act));
  const char* want_act = dino ? "gelu" : "gelu_pytorch_tanh";
  if (act.has_value() && *act != want_act) {
    return Bad(source, "hidden_act",
               absl::StrCat("'", *act, "' is not supported; the ", config->style, " encoder uses '", want_act, "'"));
  }
  if (dino) {
    std::optional<bool> swiglu;
    RETURN_IF_ERROR(Optional(*hf, "use_swiglu_ffn", source, &swiglu));
    if (swiglu.value_or(false)) return Bad(source, "use_swiglu_ffn", "a SwiGLU MLP is not supported");
    std::optional<int64_t> registers;
    RETURN_IF_ERROR(Optional(*hf, "num_register_tokens", source, &registers));
    if (registers.value_or(0) > 0) return Bad(source, "num_register_tokens", "register tokens are not supported");
  }
  std::optional<int64_t> width, patch, layers, heads, mlp, image;
  std::optional<double> eps, ratio;
  RETURN_IF_ERROR(Optional(*hf, "hidden_size", source, &width));
  RETURN_IF_ERROR(Optional(*hf, "patch_size", source, &patch));
  RETURN_IF_ERROR(Optional(*hf, "num_hidden_layers", source, &layers));
  RETURN_IF_ERROR(Optional(*hf, "num_attention_heads", source, &heads));
  RETURN_IF_ERROR(Optional(*hf, "layer_norm_eps", source, &eps));
  RETURN_IF_ERROR(Agrees(width, config->width, "hidden_size", source));
  RETURN_IF_ERROR(Agrees(patch, config->patch_size, "patch_size", source));
  RETURN_IF_ERROR(Agrees(layers, config->depth, "num_hidden_layers", source));
  if (dino) {
    RETURN_IF_ERROR(Optional(*hf, "mlp_ratio", source, &ratio));
    // transformers: int(hidden_size * mlp_ratio), truncated.
    if (ratio.has_value() && static_cast<int64_t>(*ratio * config->width) != config->mlp_dim) {
      return Bad(source, "mlp_ratio",
                 absl::StrCat(*ratio, " x ", config->width, " disagrees with the weights' MLP size ", config->mlp_dim));
    }
  } else {
    RETURN_IF_ERROR(Optional(*hf, "intermediate_size", source, &mlp));
    RETURN_IF_ERROR(Agrees(mlp, config->mlp_dim, "intermediate_size", source));
    RETURN_IF_ERROR(Optional(*hf, "image_size", source, &image));
    if (image.has_value() && *image / config->patch_size != config->position_grid) {
      return Bad(source, "image_size",
                 absl::StrCat(*image, " px at patch ", config->patch_size, " disagrees with the weights' ",
                              config->position_grid, " x ", config->position_grid, " position table"));
    }
  }
  // Absent: the config class's default, as transformers reads the file (save_pretrained leaves a nested
  // vision_config's defaults out).
  const int64_t n_heads = heads.value_or(kHfVitHeads);
  if (n_heads <= 0 || config->width % n_heads != 0) {
    return Bad(source, "num_attention_heads",
               absl::StrCat(n_heads, heads.has_value() ? "" : " (transformers' default)", " does not divide the width ",
                            config->width));
  }
  RETURN_IF_ERROR(PositiveEps(eps, "layer_norm_eps", source));
  config->heads = static_cast<int>(n_heads);
  config->eps = eps.value_or(kHfEps);
  return absl::OkStatus();
}

absl::Status ApplyHfT5Config(const Json& hf, const std::string& source, T5Config* config) {
  std::optional<std::string> model_type, ff, act;
  RETURN_IF_ERROR(Optional(hf, "model_type", source, &model_type));
  if (!model_type.has_value()) return Bad(source, "model_type", "absent: not a HuggingFace model config");
  if (*model_type != "t5" && *model_type != "mt5") {
    return Bad(source, "model_type", absl::StrCat("'", *model_type, "' is not supported (t5 or mt5)"));
  }
  RETURN_IF_ERROR(Optional(hf, "feed_forward_proj", source, &ff));
  if (ff.value_or("relu") != "gated-gelu") {
    return Bad(source, "feed_forward_proj",
               absl::StrCat("'", ff.value_or("relu"), "'", ff.has_value() ? "" : " (absent: transformers' default)",
                            " is not supported; the encoder is gated-gelu (T5 v1.1, mT5, Flan-T5)"));
  }
  RETURN_IF_ERROR(Optional(hf, "dense_act_fn", source, &act));
  if (act.has_value() && *act != "gelu_new") {
    return Bad(source, "dense_act_fn", absl::StrCat("'", *act, "' is not supported; the encoder uses gelu_new"));
  }
  std::optional<int64_t> d_model, d_kv, d_ff, heads, layers, buckets, max_distance;
  std::optional<double> eps;
  RETURN_IF_ERROR(Optional(hf, "d_model", source, &d_model));
  RETURN_IF_ERROR(Optional(hf, "d_kv", source, &d_kv));
  RETURN_IF_ERROR(Optional(hf, "d_ff", source, &d_ff));
  RETURN_IF_ERROR(Optional(hf, "num_heads", source, &heads));
  RETURN_IF_ERROR(Optional(hf, "num_layers", source, &layers));
  RETURN_IF_ERROR(Optional(hf, "relative_attention_num_buckets", source, &buckets));
  RETURN_IF_ERROR(Optional(hf, "relative_attention_max_distance", source, &max_distance));
  RETURN_IF_ERROR(Optional(hf, "layer_norm_epsilon", source, &eps));
  RETURN_IF_ERROR(Agrees(d_model, config->d_model, "d_model", source));
  RETURN_IF_ERROR(Agrees(d_kv, config->d_kv, "d_kv", source));
  RETURN_IF_ERROR(Agrees(d_ff, config->d_ff, "d_ff", source));
  RETURN_IF_ERROR(Agrees(heads, config->heads, "num_heads", source));
  RETURN_IF_ERROR(Agrees(layers, config->layers, "num_layers", source));
  RETURN_IF_ERROR(Agrees(buckets, config->num_buckets, "relative_attention_num_buckets", source));
  const int64_t distance = max_distance.value_or(kHfT5MaxDistance);
  // The bidirectional buckets' exact range (num_buckets / 4) must lie below it (t5_encoder.h).
  if (distance <= config->num_buckets / 4 || distance > (1 << 20)) {
    return Bad(source, "relative_attention_max_distance",
               absl::StrCat(distance, " is not in (num_buckets / 4 = ", config->num_buckets / 4, ", 2^20]"));
  }
  RETURN_IF_ERROR(PositiveEps(eps, "layer_norm_epsilon", source));
  config->max_distance = static_cast<int>(distance);
  config->eps = eps.value_or(kHfEps);
  return absl::OkStatus();
}

}  // namespace mivla::model
