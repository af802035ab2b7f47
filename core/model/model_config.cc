#include "core/model/model_config.h"

#include "absl/strings/str_cat.h"
#include "core/util/json_field.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"
#include "nlohmann/json.hpp"

namespace mivla::model {
namespace {

using Json = nlohmann::json;

Json VitToJson(const VitConfig& c) {
  return {{"style", c.style},   {"image_size", c.image_size}, {"patch_size", c.patch_size},
          {"width", c.width},   {"depth", c.depth},           {"heads", c.heads},
          {"mlp_dim", c.mlp_dim}, {"eps", c.eps},             {"position_grid", c.position_grid}};
}

Json T5ToJson(const T5Config& c) {
  return {{"vocab_size", c.vocab_size}, {"d_model", c.d_model},         {"d_kv", c.d_kv},
          {"heads", c.heads},           {"d_ff", c.d_ff},               {"layers", c.layers},
          {"num_buckets", c.num_buckets}, {"max_distance", c.max_distance}, {"eps", c.eps},
          {"max_tokens", c.max_tokens}};
}

Json DecoderToJson(const DecoderConfig& c) {
  return {{"width", c.width},
          {"depth", c.depth},
          {"heads", c.heads},
          {"ffn_dim", c.ffn_dim},
          {"action_horizon", c.action_horizon},
          {"sampling_steps", c.sampling_steps},
          {"frequency_dim", c.frequency_dim},
          {"eps", c.eps}};
}

// An optional field of the object at `path`: "model config: decoder.width: expected an integer, got 4.5".
template <typename T>
absl::Status Read(const Json& j, const std::string& path, const char* key, T* out) {
  return WithPrefix(ReadJsonFieldAt(j, path, key, out), "model config: ");
}

absl::Status VitFromJson(const Json& j, const std::string& p, VitConfig* c) {
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat("model config: '", p, "' is not an object"));
  RETURN_IF_ERROR(Read(j, p, "style", &c->style));
  RETURN_IF_ERROR(Read(j, p, "image_size", &c->image_size));
  RETURN_IF_ERROR(Read(j, p, "patch_size", &c->patch_size));
  RETURN_IF_ERROR(Read(j, p, "width", &c->width));
  RETURN_IF_ERROR(Read(j, p, "depth", &c->depth));
  RETURN_IF_ERROR(Read(j, p, "heads", &c->heads));
  RETURN_IF_ERROR(Read(j, p, "mlp_dim", &c->mlp_dim));
  RETURN_IF_ERROR(Read(j, p, "eps", &c->eps));
  return Read(j, p, "position_grid", &c->position_grid);
}

absl::Status T5FromJson(const Json& j, T5Config* c) {
  if (!j.is_object()) return absl::InvalidArgumentError("model config: 'text' is not an object");
  const std::string q = "text";
  RETURN_IF_ERROR(Read(j, q, "vocab_size", &c->vocab_size));
  RETURN_IF_ERROR(Read(j, q, "d_model", &c->d_model));
  RETURN_IF_ERROR(Read(j, q, "d_kv", &c->d_kv));
  RETURN_IF_ERROR(Read(j, q, "heads", &c->heads));
  RETURN_IF_ERROR(Read(j, q, "d_ff", &c->d_ff));
  RETURN_IF_ERROR(Read(j, q, "layers", &c->layers));
  RETURN_IF_ERROR(Read(j, q, "num_buckets", &c->num_buckets));
  RETURN_IF_ERROR(Read(j, q, "max_distance", &c->max_distance));
  RETURN_IF_ERROR(Read(j, q, "eps", &c->eps));
  return Read(j, q, "max_tokens", &c->max_tokens);
}

absl::Status DecoderFromJson(const Json& j, DecoderConfig* c) {
  if (!j.is_object()) return absl::InvalidArgumentError("model config: 'decoder' is not an object");
  const std::string q = "decoder";
  RETURN_IF_ERROR(Read(j, q, "width", &c->width));
  RETURN_IF_ERROR(Read(j, q, "depth", &c->depth));
  RETURN_IF_ERROR(Read(j, q, "heads", &c->heads));
  RETURN_IF_ERROR(Read(j, q, "ffn_dim", &c->ffn_dim));
  RETURN_IF_ERROR(Read(j, q, "action_horizon", &c->action_horizon));
  RETURN_IF_ERROR(Read(j, q, "sampling_steps", &c->sampling_steps));
  RETURN_IF_ERROR(Read(j, q, "frequency_dim", &c->frequency_dim));
  return Read(j, q, "eps", &c->eps);
}

absl::Status Positive(int v, const char* name) {
  if (v <= 0) return absl::InvalidArgumentError(absl::StrCat("model config: ", name, " must be positive, got ", v));
  return absl::OkStatus();
}

absl::Status ValidateVit(const VitConfig& c, const char* name) {
  if (c.style != "dinov2" && c.style != "siglip") {
    return absl::InvalidArgumentError(absl::StrCat("model config: ", name, ".style must be dinov2 or siglip"));
  }
  for (auto [v, n] : {std::pair{c.image_size, "image_size"}, {c.patch_size, "patch_size"}, {c.width, "width"},
                      {c.depth, "depth"}, {c.heads, "heads"}, {c.mlp_dim, "mlp_dim"}, {c.position_grid, "position_grid"}}) {
    RETURN_IF_ERROR(Positive(v, absl::StrCat(name, ".", n).c_str()));
  }
  if (c.image_size % c.patch_size != 0 || c.width % c.heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model config: ", name, " needs image_size divisible by patch_size and width by heads"));
  }
  return absl::OkStatus();
}

}  // namespace

ModelConfig TinyConfig() {
  ModelConfig c;
  c.name = "tiny";
  VitConfig& dino = c.dino;
  dino.style = "dinov2";
  dino.image_size = 56;  // 4x4 patches of 14 px
  dino.patch_size = 14;
  dino.width = 64;
  dino.depth = 2;
  dino.heads = 2;
  dino.mlp_dim = 128;
  dino.eps = 1e-6;
  dino.position_grid = 4;
  VitConfig& siglip = c.siglip;
  siglip.style = "siglip";
  siglip.image_size = 64;  // 4x4 patches of 16 px
  siglip.patch_size = 16;
  siglip.width = 64;
  siglip.depth = 2;
  siglip.heads = 2;
  siglip.mlp_dim = 128;
  siglip.eps = 1e-6;
  siglip.position_grid = 4;
  c.text = T5Config{};          // its defaults are tiny's
  c.decoder = DecoderConfig{};  // likewise
  return c;
}

ModelConfig BaseConfig() {
  ModelConfig c;
  c.name = "base";
  // DINOv2-B/14 at 196 px (14x14 = 196 patches), stored grid 37 (518 px pretraining).
  VitConfig& dino = c.dino;
  dino.style = "dinov2";
  dino.image_size = 196;
  dino.patch_size = 14;
  dino.width = 768;
  dino.depth = 12;
  dino.heads = 12;
  dino.mlp_dim = 3072;
  dino.eps = 1e-6;
  dino.position_grid = 37;
  // SigLIP-B/16 at 224 px (14x14 = 196 patches).
  VitConfig& siglip = c.siglip;
  siglip.style = "siglip";
  siglip.image_size = 224;
  siglip.patch_size = 16;
  siglip.width = 768;
  siglip.depth = 12;
  siglip.heads = 12;
  siglip.mlp_dim = 3072;
  siglip.eps = 1e-6;
  siglip.position_grid = 14;
  // T5-v1.1-base encoder.
  T5Config& text = c.text;
  text.vocab_size = 32128;
  text.d_model = 768;
  text.d_kv = 64;
  text.heads = 12;
  text.d_ff = 2048;
  text.layers = 12;
  text.num_buckets = 32;
  text.max_distance = 128;
  text.eps = 1e-6;
  text.max_tokens = 64;
  DecoderConfig& decoder = c.decoder;
  decoder.width = 1024;
  decoder.depth = 16;
  decoder.heads = 16;
  decoder.ffn_dim = 2816;
  decoder.action_horizon = 16;
  decoder.sampling_steps = 5;
  decoder.frequency_dim = 256;
  decoder.eps = 1e-5;
  c.freeze_vision = true;
  c.freeze_text = true;
  return c;
}

absl::StatusOr<ModelConfig> ConfigByName(const std::string& name) {
  if (name == "tiny") return TinyConfig();
  if (name == "base") return BaseConfig();
  return absl::InvalidArgumentError(absl::StrCat("unknown model config '", name, "' (expected tiny or base)"));
}

absl::Status ValidateConfig(const ModelConfig& c) {
  RETURN_IF_ERROR(ValidateVit(c.dino, "dino"));
  RETURN_IF_ERROR(ValidateVit(c.siglip, "siglip"));
  if (c.dino.style != "dinov2" || c.siglip.style != "siglip") {
    return absl::InvalidArgumentError("model config: dino must have style dinov2 and siglip style siglip");
  }
  const T5Config& t = c.text;
  for (auto [v, n] : {std::pair{t.vocab_size, "text.vocab_size"}, {t.d_model, "text.d_model"}, {t.d_kv, "text.d_kv"},
                      {t.heads, "text.heads"}, {t.d_ff, "text.d_ff"}, {t.layers, "text.layers"},
                      {t.num_buckets, "text.num_buckets"}, {t.max_distance, "text.max_distance"},
                      {t.max_tokens, "text.max_tokens"}}) {
    RETURN_IF_ERROR(Positive(v, n));
  }
  const DecoderConfig& d = c.decoder;
  for (auto [v, n] : {std::pair{d.width, "decoder.width"}, {d.depth, "decoder.depth"}, {d.heads, "decoder.heads"},
                      {d.ffn_dim, "decoder.ffn_dim"}, {d.action_horizon, "decoder.action_horizon"},
                      {d.sampling_steps, "decoder.sampling_steps"}, {d.frequency_dim, "decoder.frequency_dim"}}) {
    RETURN_IF_ERROR(Positive(v, n));
  }
  if (d.width % d.heads != 0 || (d.width / d.heads) % 2 != 0 || d.frequency_dim % 2 != 0) {
    return absl::InvalidArgumentError("model config: decoder.width / heads must be an even integer");
  }
  RETURN_IF_ERROR(Positive(c.max_views, "max_views"));
  if (!(c.control_rate_hz > 0)) return absl::InvalidArgumentError("model config: control_rate_hz must be positive");
  return absl::OkStatus();
}

std::string ConfigToJson(const ModelConfig& c) {
  Json j = {{"name", c.name},
            {"dino", VitToJson(c.dino)},
            {"siglip", VitToJson(c.siglip)},
            {"text", T5ToJson(c.text)},
            {"decoder", DecoderToJson(c.decoder)},
            {"max_views", c.max_views},
            {"control_rate_hz", c.control_rate_hz},
            {"freeze_vision", c.freeze_vision},
            {"freeze_text", c.freeze_text}};
  return j.dump();
}

absl::StatusOr<ModelConfig> ConfigFromJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("model config: not a JSON object");
  ModelConfig c = TinyConfig();
  RETURN_IF_ERROR(Read(j, "", "name", &c.name));
  if (j.contains("dino")) RETURN_IF_ERROR(VitFromJson(j["dino"], "dino", &c.dino));
  if (j.contains("siglip")) RETURN_IF_ERROR(VitFromJson(j["siglip"], "siglip", &c.siglip));
  if (j.contains("text")) RETURN_IF_ERROR(T5FromJson(j["text"], &c.text));
  if (j.contains("decoder")) RETURN_IF_ERROR(DecoderFromJson(j["decoder"], &c.decoder));
  RETURN_IF_ERROR(Read(j, "", "max_views", &c.max_views));
  RETURN_IF_ERROR(Read(j, "", "control_rate_hz", &c.control_rate_hz));
  RETURN_IF_ERROR(Read(j, "", "freeze_vision", &c.freeze_vision));
  RETURN_IF_ERROR(Read(j, "", "freeze_text", &c.freeze_text));
  RETURN_IF_ERROR(ValidateConfig(c));
  return c;
}

bool operator==(const ModelConfig& a, const ModelConfig& b) { return ConfigToJson(a) == ConfigToJson(b); }

}  // namespace mivla::model
