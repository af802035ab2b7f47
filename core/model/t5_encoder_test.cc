#include "core/model/t5_encoder.h"

#include "core/model/encoder_test_util.h"
#include "gtest/gtest.h"

namespace mivla::model {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

int64_t Bucket(int64_t relative, bool bidirectional = true, int64_t buckets = 32, int64_t max_distance = 128) {
  return T5RelativePositionBucket(torch::tensor({relative}), bidirectional, buckets, max_distance)[0].item<int64_t>();
}

// Expected values worked out by hand from HF's algorithm with 32 buckets, max_distance 128:
// bidirectional -> 16 buckets per sign (+16 when key is after query), max_exact = 8, and for
// |r| >= 8: 8 + floor(ln(|r|/8) / ln(16) · 8), capped at 15.
TEST(T5EncoderTest, RelativeBucketsMatchHandComputedValues) {
  EXPECT_EQ(Bucket(0), 0);
  EXPECT_EQ(Bucket(-1), 1);
  EXPECT_EQ(Bucket(1), 17);
  EXPECT_EQ(Bucket(-7), 7);
  EXPECT_EQ(Bucket(7), 23);
  EXPECT_EQ(Bucket(-8), 8);    // ln(1) = 0
  EXPECT_EQ(Bucket(8), 24);
  EXPECT_EQ(Bucket(-11), 8);   // ln(1.375)/ln(16)·8 = 0.919
  EXPECT_EQ(Bucket(-12), 9);   // ln(1.5)/ln(16)·8 = 1.170
  EXPECT_EQ(Bucket(-20), 10);  // ln(2.5)/ln(16)·8 = 2.644
  EXPECT_EQ(Bucket(20), 26);
  EXPECT_EQ(Bucket(-45), 12);  // ln(5.625)/ln(16)·8 = 4.985
  EXPECT_EQ(Bucket(-90), 14);  // ln(11.25)/ln(16)·8 = 6.984
  EXPECT_EQ(Bucket(-100), 15); // ln(12.5)/ln(16)·8 = 7.288
  EXPECT_EQ(Bucket(127), 31);  // 7.977
  EXPECT_EQ(Bucket(-128), 15); // 8 -> 16, capped at 15
  EXPECT_EQ(Bucket(-1000), 15);
  EXPECT_EQ(Bucket(1000), 31);
  // Unidirectional: only keys before the query count; 32 buckets, max_exact 16.
  EXPECT_EQ(Bucket(5, false), 0);
  EXPECT_EQ(Bucket(-5, false), 5);
  EXPECT_EQ(Bucket(-20, false), 17);  // 16 + ln(1.25)/ln(8)·16 = 16 + 1.717
  EXPECT_EQ(Bucket(-500, false), 31);
  // A small table: 8 buckets, max_distance 8 -> 4 per sign, max_exact 2.
  EXPECT_EQ(Bucket(-3, true, 8, 8), 2);  // 2 + ln(1.5)/ln(4)·2 = 2.585
  EXPECT_EQ(Bucket(5, true, 8, 8), 7);   // 4 + 3 (capped)
}

T5Config Small() {
  T5Config c;
  c.vocab_size = 20;
  c.d_model = 8;
  c.d_kv = 3;
  c.heads = 2;
  c.d_ff = 10;
  c.layers = 2;
  c.num_buckets = 8;
  c.max_distance = 7;  // offsets 0..5 land away from bucket boundaries
  return c;
}

// Scalar bucket function written from the algorithm (bidirectional), in double precision.
int64_t HandBucket(int64_t r, int64_t buckets, int64_t max_distance) {
  const int64_t half = buckets / 2, max_exact = half / 2;
  const int64_t base = r > 0 ? half : 0;
  r = std::abs(r);
  if (r < max_exact) return base + r;
  const int64_t large = max_exact + static_cast<int64_t>(std::log(static_cast<double>(r) / max_exact) /
                                                         std::log(static_cast<double>(max_distance) / max_exact) *
                                                         (half - max_exact));
  return base + std::min(large, half - 1);
}

Vec RmsNorm(const Vec& x, const torch::Tensor& w, double eps) {
  double ms = 0;
  for (double v : x) ms += v * v;
  ms /= x.size();
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] / std::sqrt(ms + eps) * w[i].item<double>();
  return y;
}

// The encoder with explicit loops, for the first `len` (unpadded) tokens.
Seq HandT5(const T5EncoderImpl& m, const std::vector<int64_t>& ids) {
  const T5Config& c = m.config();
  torch::Tensor embed = Param(m, "embed.weight"), rel = Param(m, "relative_bias.weight");
  Seq x;
  for (int64_t id : ids) x.push_back(Vec(embed[id].data_ptr<double>(), embed[id].data_ptr<double>() + c.d_model));
  auto bias = [&](int h, size_t t, size_t u) {
    return rel[HandBucket(static_cast<int64_t>(u) - static_cast<int64_t>(t), c.num_buckets, c.max_distance)][h]
        .item<double>();
  };
  const torch::Tensor undefined;
  for (int b = 0; b < c.layers; ++b) {
    const std::string n = "blocks." + std::to_string(b) + ".";
    auto P = [&](const std::string& s) { return Param(m, n + s); };
    Seq q, k, v;
    for (const Vec& t : x) {
      Vec h = RmsNorm(t, P("ln_attn"), c.eps);
      q.push_back(Affine(P("q.weight"), undefined, h));
      k.push_back(Affine(P("k.weight"), undefined, h));
      v.push_back(Affine(P("v.weight"), undefined, h));
    }
    Seq ctx = AttentionContext(q, k, v, c.heads, /*scale=*/1.0, bias);  // T5: no 1/sqrt(d)
    for (size_t t = 0; t < x.size(); ++t) {
      Vec a = Affine(P("o.weight"), undefined, ctx[t]);
      for (int i = 0; i < c.d_model; ++i) x[t][i] += a[i];
      Vec h = RmsNorm(x[t], P("ln_ff"), c.eps);
      Vec g = Affine(P("wi0.weight"), undefined, h), l = Affine(P("wi1.weight"), undefined, h);
      for (size_t i = 0; i < g.size(); ++i) g[i] = GeluTanh(g[i]) * l[i];
      Vec f = Affine(P("wo.weight"), undefined, g);
      for (int i = 0; i < c.d_model; ++i) x[t][i] += f[i];
    }
  }
  for (Vec& t : x) t = RmsNorm(t, Param(m, "final_ln"), c.eps);
  return x;
}

TEST(T5EncoderTest, MatchesAHandComputedForwardWithPadding) {
  T5Encoder t5(Small());
  torch::manual_seed(2);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : t5->parameters()) p.copy_(torch::randn_like(p) * 0.7);
  }
  const std::vector<int64_t> a = {3, 7, 1, 19, 4, 4}, b = {5, 2, 11};
  torch::Tensor ids = torch::tensor({3, 7, 1, 19, 4, 4, 5, 2, 11, 0, 0, 0}, torch::kInt64).view({2, 6});
  torch::Tensor mask = torch::tensor({1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, torch::kInt64).view({2, 6});
  torch::NoGradGuard no_grad;
  torch::Tensor out = t5->forward(ids, mask);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 6, 8}));
  EXPECT_LT(MaxAbsDiff(out[0], HandT5(*t5, a)), 2e-5);
  EXPECT_LT(MaxAbsDiff(out[1].slice(0, 0, 3), HandT5(*t5, b)), 2e-5);
}

TEST(T5EncoderTest, PaddingDoesNotChangeRealPositions) {
  T5Encoder t5(TinyConfig().text);
  torch::NoGradGuard no_grad;
  torch::Tensor ids = torch::randint(1, 512, {1, 7}, torch::kInt64);
  torch::Tensor plain = t5->forward(ids, torch::ones({1, 7}, torch::kInt64));
  for (int pad : {1, 5, 25}) {
    torch::Tensor padded_ids = torch::cat({ids, torch::randint(0, 512, {1, pad}, torch::kInt64)}, 1);
    torch::Tensor mask = torch::cat({torch::ones({1, 7}), torch::zeros({1, pad})}, 1).to(torch::kBool);
    torch::Tensor out = t5->forward(padded_ids, mask);
    EXPECT_LT((out.slice(1, 0, 7) - plain).abs().max().item<float>(), 1e-5) << pad;
  }
  EXPECT_THROW(t5->forward(ids, torch::ones({1, 6})), c10::Error);
}

TEST(T5EncoderTest, PositionBiasIsShapedAndSharedAcrossOffsets) {
  T5Encoder t5(TinyConfig().text);
  torch::Tensor bias = t5->PositionBias(5, 7);
  ASSERT_EQ(bias.sizes(), (std::vector<int64_t>{1, 4, 5, 7}));
  // Entries on the same diagonal (same key - query) are equal.
  EXPECT_TRUE(torch::equal(bias[0][2][1][3], bias[0][2][3][5]));
  T5Config bad = TinyConfig().text;
  bad.num_buckets = 2;
  EXPECT_FALSE(ValidateT5Config(bad).ok());
  EXPECT_THROW(T5Encoder{bad}, c10::Error);
}

}  // namespace
}  // namespace mivla::model
