#include "core/model/vit_encoder.h"

#include "core/model/encoder_test_util.h"
#include "gtest/gtest.h"

namespace mivla::model {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

VitConfig Small(const std::string& style) {
  // 3×2 patch grid would not be square; use image 6, patch 2 -> 3×3 grid, stored grid 3.
  VitConfig c;
  c.style = style;
  c.image_size = 6;
  c.patch_size = 2;
  c.width = 8;
  c.depth = 2;
  c.heads = 2;
  c.mlp_dim = 12;
  c.eps = 1e-6;
  c.position_grid = 3;
  return c;
}

// Randomises every parameter (layer scales and norms included) so nothing is trivially 1 or 0.
void Randomise(torch::nn::Module& m, int seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.copy_(torch::randn_like(p) * 0.5);
}

// The encoder computed with explicit loops for one image [3, S, S] whose grid equals the stored grid.
Seq HandVit(const VitEncoderImpl& m, const torch::Tensor& image) {
  const VitConfig& c = m.config();
  const bool dino = c.style == "dinov2";
  const int p = c.patch_size, g = c.grid(), w = c.width;
  torch::Tensor img = image.to(torch::kFloat64).contiguous();
  torch::Tensor pw = Param(m, "patch_embed.weight"), pb = Param(m, "patch_embed.bias");
  Seq x;
  if (dino) {
    torch::Tensor cls = Param(m, "cls_token");
    x.emplace_back(cls.data_ptr<double>(), cls.data_ptr<double>() + w);
  }
  for (int gy = 0; gy < g; ++gy) {
    for (int gx = 0; gx < g; ++gx) {
      Vec e(w);
      for (int o = 0; o < w; ++o) {
        double s = pb[o].item<double>();
        for (int ch = 0; ch < 3; ++ch)
          for (int ky = 0; ky < p; ++ky)
            for (int kx = 0; kx < p; ++kx)
              s += pw[o][ch][ky][kx].item<double>() * img[ch][gy * p + ky][gx * p + kx].item<double>();
        e[o] = s;
      }
      x.push_back(e);
    }
  }
  torch::Tensor pos = Param(m, "pos_embed").reshape({-1, w});
  for (size_t t = 0; t < x.size(); ++t)
    for (int i = 0; i < w; ++i) x[t][i] += pos[t][i].item<double>();
  for (int b = 0; b < c.depth; ++b) {
    const std::string n = "blocks." + std::to_string(b) + ".";
    auto P = [&](const std::string& s) { return Param(m, n + s); };
    Seq q, k, v;
    for (const Vec& t : x) {
      Vec h = LayerNorm(t, P("norm1.weight"), P("norm1.bias"), c.eps);
      q.push_back(Affine(P("q.weight"), P("q.bias"), h));
      k.push_back(Affine(P("k.weight"), P("k.bias"), h));
      v.push_back(Affine(P("v.weight"), P("v.bias"), h));
    }
    const double scale = 1.0 / std::sqrt(static_cast<double>(w / c.heads));
    Seq ctx = AttentionContext(q, k, v, c.heads, scale, [](int, size_t, size_t) { return 0.0; });
    for (size_t t = 0; t < x.size(); ++t) {
      Vec a = Affine(P("out.weight"), P("out.bias"), ctx[t]);
      for (int i = 0; i < w; ++i) x[t][i] += a[i] * (dino ? P("ls1")[i].item<double>() : 1.0);
      Vec h = Affine(P("fc1.weight"), P("fc1.bias"), LayerNorm(x[t], P("norm2.weight"), P("norm2.bias"), c.eps));
      for (double& e : h) e = dino ? GeluErf(e) : GeluTanh(e);
      Vec f = Affine(P("fc2.weight"), P("fc2.bias"), h);
      for (int i = 0; i < w; ++i) x[t][i] += f[i] * (dino ? P("ls2")[i].item<double>() : 1.0);
    }
  }
  for (Vec& t : x) t = LayerNorm(t, Param(m, "norm.weight"), Param(m, "norm.bias"), c.eps);
  return x;
}

class VitStyleTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VitStyleTest, MatchesAHandComputedForward) {
  VitEncoder vit(Small(GetParam()));
  Randomise(*vit, 11);
  torch::manual_seed(5);
  torch::Tensor pixels = torch::randn({2, 3, 6, 6});
  torch::NoGradGuard no_grad;
  torch::Tensor out = vit->forward(pixels);
  const int64_t tokens = GetParam() == "dinov2" ? 10 : 9;
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, tokens, 8}));
  for (int i = 0; i < 2; ++i) EXPECT_LT(MaxAbsDiff(out[i], HandVit(*vit, pixels[i])), 2e-5) << "image " << i;
  torch::Tensor patches = vit->PatchTokens(pixels);
  EXPECT_EQ(patches.size(1), 9);
  EXPECT_TRUE(torch::equal(patches, out.slice(1, tokens - 9)));
}

TEST_P(VitStyleTest, TinyConfigShapesAndPreprocess) {
  const ModelConfig tiny = TinyConfig();
  const VitConfig c = GetParam() == "dinov2" ? tiny.dino : tiny.siglip;
  VitEncoder vit(c);
  torch::NoGradGuard no_grad;
  torch::Tensor rgb = torch::full({2, 3, 30, 40}, 0.5);
  torch::Tensor pixels = vit->Preprocess(rgb);
  ASSERT_EQ(pixels.sizes(), (std::vector<int64_t>{2, 3, c.image_size, c.image_size}));
  if (c.style == "dinov2") {
    EXPECT_NEAR(pixels[0][0][0][0].item<float>(), (0.5 - 0.485) / 0.229, 1e-5);
    EXPECT_NEAR(pixels[1][2][5][7].item<float>(), (0.5 - 0.406) / 0.225, 1e-5);
  } else {
    EXPECT_NEAR(pixels.abs().max().item<float>(), 0.0, 1e-6);
  }
  torch::Tensor out = vit->PatchTokens(pixels);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, c.num_patches(), c.width}));
  EXPECT_EQ(vit->forward(pixels).size(1), c.num_patches() + vit->num_prefix_tokens());
}

INSTANTIATE_TEST_SUITE_P(Styles, VitStyleTest, ::testing::Values("dinov2", "siglip"));

TEST(VitEncoderTest, BaseConfigsGive196PatchTokensEach) {
  const ModelConfig base = BaseConfig();
  torch::NoGradGuard no_grad;
  for (const VitConfig& c : {base.dino, base.siglip}) {
    VitEncoder vit(c);
    torch::Tensor out = vit->PatchTokens(torch::randn({1, 3, c.image_size, c.image_size}));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{1, 196, 768})) << c.style;
    EXPECT_TRUE(out.isfinite().all().item<bool>()) << c.style;
  }
}

// PyTorch's bicubic (A = -0.75, align_corners = false, edge-clamped taps) of one [G, G] plane.
double CubicWeight(double x) {
  const double a = -0.75;
  x = std::abs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

double Bicubic(const torch::Tensor& plane, int out_h, int out_w, int oy, int ox) {
  const int in_h = plane.size(0), in_w = plane.size(1);
  const double sy = (oy + 0.5) * in_h / out_h - 0.5, sx = (ox + 0.5) * in_w / out_w - 0.5;
  const int fy = static_cast<int>(std::floor(sy)), fx = static_cast<int>(std::floor(sx));
  double s = 0;
  for (int dy = -1; dy <= 2; ++dy) {
    for (int dx = -1; dx <= 2; ++dx) {
      const int y = std::clamp(fy + dy, 0, in_h - 1), x = std::clamp(fx + dx, 0, in_w - 1);
      s += CubicWeight(sy - (fy + dy)) * CubicWeight(sx - (fx + dx)) * plane[y][x].item<double>();
    }
  }
  return s;
}

TEST(VitEncoderTest, Dinov2PositionInterpolation) {
  VitConfig c = TinyConfig().dino;  // stored grid 4, input 56 px / 14 = grid 4
  ASSERT_EQ(c.position_grid, 4);
  VitEncoder vit(c);
  torch::NoGradGuard no_grad;
  torch::Tensor stored = vit->named_parameters()["pos_embed"];
  EXPECT_TRUE(torch::equal(vit->PositionEmbedding(4, 4), stored));  // same grid: identity
  const torch::Tensor planes = stored.slice(1, 1).reshape({4, 4, c.width}).to(torch::kFloat64);
  for (auto [gh, gw] : {std::pair<int, int>{6, 6}, {2, 3}, {7, 5}}) {
    torch::Tensor pe = vit->PositionEmbedding(gh, gw);
    ASSERT_EQ(pe.sizes(), (std::vector<int64_t>{1, 1 + gh * gw, c.width}));
    EXPECT_TRUE(torch::equal(pe[0][0], stored[0][0]));  // CLS position untouched
    for (int ch : {0, 17, c.width - 1}) {
      torch::Tensor plane = planes.select(2, ch);
      for (int y = 0; y < gh; ++y)
        for (int x = 0; x < gw; ++x)
          EXPECT_NEAR(pe[0][1 + y * gw + x][ch].item<double>(), Bicubic(plane, gh, gw, y, x), 1e-5);
    }
  }
  // A 98-px input (grid 7) runs end to end with the interpolated table.
  EXPECT_EQ(vit->forward(torch::randn({1, 3, 98, 98})).sizes(), (std::vector<int64_t>{1, 50, c.width}));
  EXPECT_EQ(vit->forward(torch::randn({1, 3, 28, 42})).sizes(), (std::vector<int64_t>{1, 7, c.width}));
}

TEST(VitEncoderTest, RejectsBadConfigsAndInputs) {
  VitConfig bad = TinyConfig().dino;
  bad.heads = 3;
  EXPECT_FALSE(ValidateVitConfig(bad).ok());
  EXPECT_THROW(VitEncoder{bad}, c10::Error);
  bad = TinyConfig().siglip;
  bad.style = "clip";
  EXPECT_FALSE(ValidateVitConfig(bad).ok());
  VitEncoder siglip(TinyConfig().siglip);
  EXPECT_THROW(siglip->forward(torch::randn({1, 3, 32, 32})), c10::Error);  // wrong grid for siglip
  EXPECT_THROW(siglip->forward(torch::randn({1, 4, 64, 64})), c10::Error);
}

}  // namespace
}  // namespace mivla::model
