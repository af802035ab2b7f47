#include "core/model/hf_import.h"

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/model/torch_status.h"
#include "core/util/status_macros.h"

namespace mivla::model {
namespace {

using NamePairs = std::vector<std::pair<std::string, std::string>>;

std::string ShapeString(torch::IntArrayRef shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

void AddLinear(NamePairs& out, const std::string& ours, const std::string& hf, bool bias = true) {
  out.emplace_back(ours + ".weight", hf + ".weight");
  if (bias) out.emplace_back(ours + ".bias", hf + ".bias");
}

// Fetches, checks and converts every mapped tensor, then copies them in; nothing changes on error.
absl::Status Import(const SafetensorsFile& file, torch::nn::Module& module, const NamePairs& names,
                    const std::string& prefix, const char* what) {
  std::map<std::string, torch::Tensor> params;
  for (const auto& item : module.named_parameters()) params[item.key()] = item.value();
  if (params.size() != names.size()) {
    return absl::InternalError(absl::StrCat(what, " import: the module has ", params.size(),
                                            " parameters but the name map has ", names.size()));
  }
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  for (const auto& [ours, hf] : names) {
    auto it = params.find(ours);
    if (it == params.end()) {
      return absl::InternalError(absl::StrCat(what, " import: the module has no parameter '", ours, "'"));
    }
    const std::string name = prefix + hf;
    const torch::Tensor& param = it->second;
    if (!file.contains(name)) {
      return absl::NotFoundError(absl::StrCat(what, " import from '", file.source(), "': missing tensor '", name,
                                              "' (expected shape ", ShapeString(param.sizes()), ")"));
    }
    ASSIGN_OR_RETURN(torch::Tensor t, file.Get(name));
    if (t.sizes() != param.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(what, " import from '", file.source(), "': tensor '", name,
                                                     "' has shape ", ShapeString(t.sizes()), ", expected ",
                                                     ShapeString(param.sizes())));
    }
    if (!t.is_floating_point()) {
      return absl::InvalidArgumentError(absl::StrCat(what, " import from '", file.source(), "': tensor '", name,
                                                     "' has non-floating dtype ", file.Find(name)->dtype));
    }
    copies.emplace_back(param, t.to(param.device(), param.scalar_type()));
  }
  torch::NoGradGuard no_grad;
  for (auto& [param, value] : copies) param.copy_(value);
  return absl::OkStatus();
}

absl::StatusOr<NamedTensors> Export(const torch::nn::Module& module, const NamePairs& names,
                                    const std::string& prefix) {
  std::map<std::string, torch::Tensor> params;
  for (const auto& item : module.named_parameters()) params[item.key()] = item.value();
  NamedTensors out;
  for (const auto& [ours, hf] : names) {
    auto it = params.find(ours);
    if (it == params.end()) return absl::InternalError(absl::StrCat("export: no parameter '", ours, "'"));
    out.emplace_back(prefix + hf, it->second.detach().to(torch::kCPU).clone());
  }
  return out;
}

// The shape of `name`, or NotFound.
absl::StatusOr<std::vector<int64_t>> ShapeOf(const SafetensorsFile& file, const std::string& name) {
  const SafetensorsFile::Entry* e = file.Find(name);
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrCat("infer config from '", file.source(), "': missing tensor '", name, "'"));
  }
  return e->shape;
}

absl::Status ExpectRank(const std::vector<int64_t>& shape, size_t rank, const std::string& name) {
  if (shape.size() == rank) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("infer config: tensor '", name, "' has shape ", ShapeString(shape), ", expected rank ", rank));
}

// Number of consecutive i = 0, 1, ... for which `before + i + after` exists.
int CountLayers(const SafetensorsFile& file, const std::string& before, const std::string& after) {
  int n = 0;
  while (file.contains(absl::StrCat(before, n, after))) ++n;
  return n;
}

// Variants whose files hold every tensor our encoders ask for (or an unrelated set) while their model
// computes something else: refused by name rather than imported into a wrong encoder.
absl::Status RefuseUnsupportedVit(const SafetensorsFile& file, const std::string& prefix, bool dino) {
  if (!dino) return absl::OkStatus();
  const std::string registers = prefix + "embeddings.register_tokens";
  if (file.contains(registers)) {
    return absl::InvalidArgumentError(absl::StrCat("'", file.source(), "' holds '", registers,
                                                   "': register tokens (Dinov2WithRegistersModel) are not supported"));
  }
  const std::string swiglu = prefix + "encoder.layer.0.mlp.weights_in.weight";
  if (file.contains(swiglu)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", file.source(), "' holds '", swiglu, "': a SwiGLU MLP (dinov2-giant) is not supported"));
  }
  return absl::OkStatus();
}

absl::Status RefuseUnsupportedT5(const SafetensorsFile& file, const std::string& prefix) {
  const std::string per_block = prefix + "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight";
  if (file.contains(per_block)) {
    return absl::InvalidArgumentError(absl::StrCat("'", file.source(), "' holds '", per_block,
                                                   "': a relative attention bias in every block (UMT5) is not "
                                                   "supported; T5 has one, in block 0"));
  }
  return absl::OkStatus();
}

}  // namespace

NamePairs VitHfNames(const VitConfig& c) {
  NamePairs out;
  const bool dino = c.style == "dinov2";
  if (dino) {
    AddLinear(out, "patch_embed", "embeddings.patch_embeddings.projection");
    out.emplace_back("cls_token", "embeddings.cls_token");
    out.emplace_back("pos_embed", "embeddings.position_embeddings");
  } else {
    AddLinear(out, "patch_embed", "vision_model.embeddings.patch_embedding");
    out.emplace_back("pos_embed", "vision_model.embeddings.position_embedding.weight");
  }
  for (int i = 0; i < c.depth; ++i) {
    const std::string ours = absl::StrCat("blocks.", i, ".");
    if (dino) {
      const std::string hf = absl::StrCat("encoder.layer.", i, ".");
      AddLinear(out, ours + "norm1", hf + "norm1");
      AddLinear(out, ours + "q", hf + "attention.attention.query");
      AddLinear(out, ours + "k", hf + "attention.attention.key");
      AddLinear(out, ours + "v", hf + "attention.attention.value");
      AddLinear(out, ours + "out", hf + "attention.output.dense");
      out.emplace_back(ours + "ls1", hf + "layer_scale1.lambda1");
      AddLinear(out, ours + "norm2", hf + "norm2");
      AddLinear(out, ours + "fc1", hf + "mlp.fc1");
      AddLinear(out, ours + "fc2", hf + "mlp.fc2");
      out.emplace_back(ours + "ls2", hf + "layer_scale2.lambda1");
    } else {
      const std::string hf = absl::StrCat("vision_model.encoder.layers.", i, ".");
      AddLinear(out, ours + "norm1", hf + "layer_norm1");
      AddLinear(out, ours + "q", hf + "self_attn.q_proj");
      AddLinear(out, ours + "k", hf + "self_attn.k_proj");
      AddLinear(out, ours + "v", hf + "self_attn.v_proj");
      AddLinear(out, ours + "out", hf + "self_attn.out_proj");
      AddLinear(out, ours + "norm2", hf + "layer_norm2");
      AddLinear(out, ours + "fc1", hf + "mlp.fc1");
      AddLinear(out, ours + "fc2", hf + "mlp.fc2");
    }
  }
  AddLinear(out, "norm", dino ? "layernorm" : "vision_model.post_layernorm");
  return out;
}

NamePairs T5HfNames(const T5Config& c) {
  NamePairs out;
  out.emplace_back("embed.weight", "shared.weight");
  out.emplace_back("relative_bias.weight", "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
  for (int i = 0; i < c.layers; ++i) {
    const std::string ours = absl::StrCat("blocks.", i, ".");
    const std::string hf = absl::StrCat("encoder.block.", i, ".layer.");
    out.emplace_back(ours + "ln_attn", hf + "0.layer_norm.weight");
    for (const char* p : {"q", "k", "v", "o"}) {
      out.emplace_back(ours + p + ".weight", absl::StrCat(hf, "0.SelfAttention.", p, ".weight"));
    }
    out.emplace_back(ours + "ln_ff", hf + "1.layer_norm.weight");
    out.emplace_back(ours + "wi0.weight", hf + "1.DenseReluDense.wi_0.weight");
    out.emplace_back(ours + "wi1.weight", hf + "1.DenseReluDense.wi_1.weight");
    out.emplace_back(ours + "wo.weight", hf + "1.DenseReluDense.wo.weight");
  }
  out.emplace_back("final_ln", "encoder.final_layer_norm.weight");
  return out;
}

absl::Status ImportHfVit(const SafetensorsFile& file, VitEncoderImpl& vit, const std::string& prefix) {
  RETURN_IF_ERROR(RefuseUnsupportedVit(file, prefix, vit.config().style == "dinov2"));
  return CatchTorchErrors(
      "vit import", [&] { return Import(file, vit, VitHfNames(vit.config()), prefix, vit.config().style.c_str()); });
}

absl::Status ImportHfT5(const SafetensorsFile& file, T5EncoderImpl& t5, const std::string& prefix) {
  RETURN_IF_ERROR(RefuseUnsupportedT5(file, prefix));
  NamePairs names = T5HfNames(t5.config());
  if (!file.contains(prefix + "shared.weight")) names[0].second = "encoder.embed_tokens.weight";
  return CatchTorchErrors("t5 import", [&] { return Import(file, t5, names, prefix, "t5"); });
}

absl::StatusOr<NamedTensors> ExportHfVit(const VitEncoderImpl& vit, const std::string& prefix) {
  return CatchTorchErrors("vit export", [&] { return Export(vit, VitHfNames(vit.config()), prefix); });
}

absl::StatusOr<NamedTensors> ExportHfT5(const T5EncoderImpl& t5, const std::string& prefix) {
  return CatchTorchErrors("t5 export", [&] { return Export(t5, T5HfNames(t5.config()), prefix); });
}

absl::StatusOr<VitConfig> InferVitConfig(const SafetensorsFile& file, const VitConfig& defaults,
                                         const std::string& prefix) {
  VitConfig c = defaults;
  const std::string dino_patch = prefix + "embeddings.patch_embeddings.projection.weight";
  const std::string siglip_patch = prefix + "vision_model.embeddings.patch_embedding.weight";
  if (file.contains(dino_patch)) {
    c.style = "dinov2";
  } else if (file.contains(siglip_patch)) {
    c.style = "siglip";
  } else {
    return absl::NotFoundError(absl::StrCat("infer vit config from '", file.source(), "': neither '", dino_patch,
                                            "' nor '", siglip_patch, "' is present"));
  }
  const bool dino = c.style == "dinov2";
  RETURN_IF_ERROR(RefuseUnsupportedVit(file, prefix, dino));
  const std::string patch_name = dino ? dino_patch : siglip_patch;
  ASSIGN_OR_RETURN(const std::vector<int64_t> patch, ShapeOf(file, patch_name));
  RETURN_IF_ERROR(ExpectRank(patch, 4, patch_name));
  c.width = static_cast<int>(patch[0]);
  c.patch_size = static_cast<int>(patch[2]);
  const std::string pos_name =
      prefix + (dino ? "embeddings.position_embeddings" : "vision_model.embeddings.position_embedding.weight");
  ASSIGN_OR_RETURN(const std::vector<int64_t> pos, ShapeOf(file, pos_name));
  RETURN_IF_ERROR(ExpectRank(pos, dino ? 3 : 2, pos_name));
  const int64_t positions = dino ? pos[1] - 1 : pos[0];
  const int64_t side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(positions))));
  if (side * side != positions) {
    return absl::InvalidArgumentError(
        absl::StrCat("infer vit config: '", pos_name, "' holds ", positions, " patch positions, not a square grid"));
  }
  if (dino) {
    c.position_grid = static_cast<int>(side);
  } else {
    c.image_size = static_cast<int>(side) * c.patch_size;
    c.position_grid = static_cast<int>(side);
  }
  const std::string layer = prefix + (dino ? "encoder.layer." : "vision_model.encoder.layers.");
  c.depth = CountLayers(file, layer, ".mlp.fc1.weight");
  const std::string fc1 = absl::StrCat(layer, 0, ".mlp.fc1.weight");
  if (c.depth == 0) {
    return absl::NotFoundError(
        absl::StrCat("infer vit config from '", file.source(), "': no encoder layer ('", fc1, "' is absent)"));
  }
  ASSIGN_OR_RETURN(const std::vector<int64_t> fc1_shape, ShapeOf(file, fc1));
  RETURN_IF_ERROR(ExpectRank(fc1_shape, 2, fc1));
  c.mlp_dim = static_cast<int>(fc1_shape[0]);
  RETURN_IF_ERROR(ValidateVitConfig(c));
  return c;
}

absl::StatusOr<T5Config> InferT5Config(const SafetensorsFile& file, const T5Config& defaults,
                                       const std::string& prefix) {
  RETURN_IF_ERROR(RefuseUnsupportedT5(file, prefix));
  T5Config c = defaults;
  std::string embed = prefix + "shared.weight";
  if (!file.contains(embed)) embed = prefix + "encoder.embed_tokens.weight";
  ASSIGN_OR_RETURN(const std::vector<int64_t> e, ShapeOf(file, embed));
  RETURN_IF_ERROR(ExpectRank(e, 2, embed));
  c.vocab_size = static_cast<int>(e[0]);
  c.d_model = static_cast<int>(e[1]);
  const std::string rel = prefix + "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight";
  ASSIGN_OR_RETURN(const std::vector<int64_t> r, ShapeOf(file, rel));
  RETURN_IF_ERROR(ExpectRank(r, 2, rel));
  c.num_buckets = static_cast<int>(r[0]);
  c.heads = static_cast<int>(r[1]);
  const std::string q = prefix + "encoder.block.0.layer.0.SelfAttention.q.weight";
  ASSIGN_OR_RETURN(const std::vector<int64_t> qs, ShapeOf(file, q));
  RETURN_IF_ERROR(ExpectRank(qs, 2, q));
  if (qs[0] % c.heads != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("infer t5 config: '", q, "' rows ", qs[0], " are not divisible by heads ", c.heads));
  }
  c.d_kv = static_cast<int>(qs[0] / c.heads);
  const std::string wi = prefix + "encoder.block.0.layer.1.DenseReluDense.wi_0.weight";
  ASSIGN_OR_RETURN(const std::vector<int64_t> w, ShapeOf(file, wi));
  RETURN_IF_ERROR(ExpectRank(w, 2, wi));
  c.d_ff = static_cast<int>(w[0]);
  c.layers = CountLayers(file, prefix + "encoder.block.", ".layer.0.SelfAttention.q.weight");
  RETURN_IF_ERROR(ValidateT5Config(c));
  return c;
}

}  // namespace mivla::model
