#include "core/model/vit_encoder.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace mivla::model {
namespace {

namespace F = torch::nn::functional;

torch::nn::LayerNorm MakeNorm(const VitConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.width}).eps(c.eps));
}

}  // namespace

absl::Status ValidateVitConfig(const VitConfig& c) {
  if (c.style != "dinov2" && c.style != "siglip") {
    return absl::InvalidArgumentError(absl::StrCat("vit: unknown style '", c.style, "' (dinov2 or siglip)"));
  }
  if (c.image_size <= 0 || c.patch_size <= 0 || c.width <= 0 || c.depth < 0 || c.heads <= 0 ||
      c.mlp_dim <= 0 || c.eps <= 0 || (c.style == "dinov2" && c.position_grid <= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("vit (", c.style, "): sizes must be positive"));
  }
  if (c.width % c.heads != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("vit (", c.style, "): width ", c.width, " is not divisible by heads ", c.heads));
  }
  if (c.image_size % c.patch_size != 0) {
    return absl::InvalidArgumentError(absl::StrCat("vit (", c.style, "): image_size ", c.image_size,
                                                   " is not a multiple of patch_size ", c.patch_size));
  }
  return absl::OkStatus();
}

VitBlockImpl::VitBlockImpl(const VitConfig& c) : dinov2_(c.style == "dinov2"), heads_(c.heads) {
  norm1_ = register_module("norm1", MakeNorm(c));
  q_ = register_module("q", torch::nn::Linear(c.width, c.width));
  k_ = register_module("k", torch::nn::Linear(c.width, c.width));
  v_ = register_module("v", torch::nn::Linear(c.width, c.width));
  out_ = register_module("out", torch::nn::Linear(c.width, c.width));
  norm2_ = register_module("norm2", MakeNorm(c));
  fc1_ = register_module("fc1", torch::nn::Linear(c.width, c.mlp_dim));
  fc2_ = register_module("fc2", torch::nn::Linear(c.mlp_dim, c.width));
  if (dinov2_) {
    // HF Dinov2Config.layerscale_value defaults to 1.0.
    ls1_ = register_parameter("ls1", torch::ones({c.width}));
    ls2_ = register_parameter("ls2", torch::ones({c.width}));
  }
}

torch::Tensor VitBlockImpl::forward(const torch::Tensor& x) {
  const int64_t n = x.size(0), t = x.size(1), w = x.size(2), d = w / heads_;
  // Attention: softmax(q kᵀ / √d) v per head, then the output projection.
  torch::Tensor h = norm1_(x);
  auto split = [&](const torch::Tensor& y) { return y.view({n, t, heads_, d}).transpose(1, 2); };
  torch::Tensor q = split(q_(h)), k = split(k_(h)), v = split(v_(h));
  torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) * (1.0 / std::sqrt(static_cast<double>(d)));
  torch::Tensor probs = torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type());
  torch::Tensor attn = out_(torch::matmul(probs, v).transpose(1, 2).reshape({n, t, w}));
  torch::Tensor y = x + (dinov2_ ? attn * ls1_ : attn);
  // MLP: exact GELU (dinov2) or tanh approximation (siglip's gelu_pytorch_tanh).
  torch::Tensor m = fc1_(norm2_(y));
  m = dinov2_ ? torch::gelu(m) : torch::gelu(m, "tanh");
  m = fc2_(m);
  return y + (dinov2_ ? m * ls2_ : m);
}

VitEncoderImpl::VitEncoderImpl(const VitConfig& config) : config_(config), dinov2_(config.style == "dinov2") {
  const absl::Status valid = ValidateVitConfig(config);
  TORCH_CHECK(valid.ok(), std::string(valid.message()));
  const int64_t w = config.width;
  patch_embed_ = register_module(
      "patch_embed", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, w, config.patch_size).stride(config.patch_size)));
  if (dinov2_) {
    cls_token_ = register_parameter("cls_token", torch::randn({1, 1, w}) * 0.02);
    const int64_t g = config.position_grid;
    pos_embed_ = register_parameter("pos_embed", torch::randn({1, 1 + g * g, w}) * 0.02);
  } else {
    pos_embed_ = register_parameter("pos_embed", torch::randn({config.num_patches(), w}) * 0.02);
  }
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < config.depth; ++i) blocks_->push_back(VitBlock(config));
  norm_ = register_module("norm", MakeNorm(config));
}

torch::Tensor VitEncoderImpl::PositionEmbedding(int64_t grid_h, int64_t grid_w) const {
  if (!dinov2_) {
    TORCH_CHECK(grid_h * grid_w == pos_embed_.size(0) && grid_h == grid_w && grid_h == config_.grid(),
                "siglip: input grid ", grid_h, "x", grid_w, " does not match the configured grid ", config_.grid());
    return pos_embed_.unsqueeze(0);
  }
  const int64_t g = config_.position_grid;
  // Like HF: no interpolation when the patch count matches and the input is square.
  if (grid_h * grid_w == g * g && grid_h == grid_w) return pos_embed_;
  const int64_t w = pos_embed_.size(2);
  torch::Tensor cls = pos_embed_.slice(1, 0, 1);
  torch::Tensor grid = pos_embed_.slice(1, 1).reshape({1, g, g, w}).permute({0, 3, 1, 2});
  torch::Tensor resized = F::interpolate(grid.to(torch::kFloat32), F::InterpolateFuncOptions()
                                                                       .size(std::vector<int64_t>{grid_h, grid_w})
                                                                       .mode(torch::kBicubic)
                                                                       .align_corners(false))
                              .to(pos_embed_.scalar_type());
  resized = resized.permute({0, 2, 3, 1}).reshape({1, grid_h * grid_w, w});
  return torch::cat({cls, resized}, 1);
}

torch::Tensor VitEncoderImpl::forward(const torch::Tensor& pixels) {
  TORCH_CHECK(pixels.dim() == 4 && pixels.size(1) == 3, "vit: pixels must be [N, 3, H, W], got ", pixels.sizes());
  const int64_t n = pixels.size(0);
  const int64_t grid_h = pixels.size(2) / config_.patch_size, grid_w = pixels.size(3) / config_.patch_size;
  torch::Tensor x = patch_embed_(pixels.to(patch_embed_->weight.scalar_type())).flatten(2).transpose(1, 2);
  if (dinov2_) x = torch::cat({cls_token_.expand({n, 1, -1}), x}, 1);
  x = x + PositionEmbedding(grid_h, grid_w);
  for (const auto& block : *blocks_) x = block->as<VitBlock>()->forward(x);
  return norm_(x);
}

torch::Tensor VitEncoderImpl::PatchTokens(const torch::Tensor& pixels) {
  torch::Tensor tokens = forward(pixels);
  return dinov2_ ? tokens.slice(1, 1) : tokens;
}

torch::Tensor VitEncoderImpl::Preprocess(const torch::Tensor& rgb) const {
  TORCH_CHECK(rgb.dim() == 4 && rgb.size(1) == 3, "vit: rgb must be [N, 3, H, W], got ", rgb.sizes());
  const int64_t s = config_.image_size;
  torch::Tensor x = rgb.to(torch::kFloat32);
  if (x.size(2) != s || x.size(3) != s) {
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{s, s})
                              .mode(torch::kBicubic)
                              .align_corners(false)
                              .antialias(true))
            .clamp(0.0, 1.0);
  }
  const auto opts = x.options();
  torch::Tensor mean, std;
  if (dinov2_) {
    mean = torch::tensor({0.485, 0.456, 0.406}, opts);
    std = torch::tensor({0.229, 0.224, 0.225}, opts);
  } else {
    mean = torch::full({3}, 0.5, opts);
    std = torch::full({3}, 0.5, opts);
  }
  return (x - mean.view({1, 3, 1, 1})) / std.view({1, 3, 1, 1});
}

}  // namespace mivla::model
