#include "core/model/dit_decoder.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace mivla::model {
namespace {

DecoderConfig SmallConfig() {
  DecoderConfig c;
  c.width = 32;
  c.depth = 2;
  c.heads = 4;
  c.ffn_dim = 64;
  c.action_horizon = 8;
  return c;
}

ConditionTokens RandomCondition(int64_t b, int64_t nv, int64_t l, int64_t w) {
  ConditionTokens c;
  c.vision = torch::randn({b, nv, w});
  c.vision_mask = torch::ones({b, nv}, torch::kBool);
  c.text = torch::randn({b, l, w});
  c.text_mask = torch::ones({b, l}, torch::kBool);
  c.prefix = torch::randn({b, DitDecoderImpl::kPrefixTokens, w});
  return c;
}

TEST(DitDecoderTest, OutputShapeAndZeroInit) {
  torch::manual_seed(0);
  DecoderConfig cfg = SmallConfig();
  DitDecoder dec(cfg, 76);
  ConditionTokens cond = RandomCondition(3, 10, 5, cfg.width);
  DecoderContext ctx = dec->PrepareContext(cond);
  ASSERT_EQ(ctx.blocks.size(), 2u);
  EXPECT_EQ(ctx.blocks[0].vision.k_t.sizes(), (std::vector<int64_t>{3 * 4, 8, 10}));
  EXPECT_EQ(ctx.blocks[0].vision.v.sizes(), (std::vector<int64_t>{3 * 4, 10, 8}));
  torch::Tensor v = dec->forward(ctx, torch::randn({3, 8, 76}), torch::rand({3}));
  EXPECT_EQ(v.sizes(), (std::vector<int64_t>{3, 8, 76}));
  // The output layer starts at zero, so a fresh decoder predicts zero velocity.
  EXPECT_EQ(v.abs().max().item<float>(), 0.0f);
}

void Perturb(DitDecoder& dec) {
  torch::NoGradGuard g;
  for (auto& p : dec->parameters()) p.add_(torch::randn_like(p) * 0.1);
}

TEST(DitDecoderTest, PaddedContextTokensAreIgnored) {
  torch::manual_seed(1);
  DecoderConfig cfg = SmallConfig();
  DitDecoder dec(cfg, 76);
  Perturb(dec);
  ConditionTokens cond = RandomCondition(1, 6, 4, cfg.width);
  torch::Tensor x = torch::randn({1, 8, 76});
  torch::Tensor t = torch::full({1}, 0.3);
  torch::Tensor base = dec->forward(dec->PrepareContext(cond), x, t);
  // Append padding tokens with garbage values to both contexts and mask them out.
  ConditionTokens padded = cond;
  padded.vision = torch::cat({cond.vision, torch::randn({1, 3, cfg.width}) * 100}, 1);
  padded.vision_mask = torch::cat({cond.vision_mask, torch::zeros({1, 3}, torch::kBool)}, 1);
  padded.text = torch::cat({cond.text, torch::randn({1, 2, cfg.width}) * 100}, 1);
  padded.text_mask = torch::cat({cond.text_mask, torch::zeros({1, 2}, torch::kBool)}, 1);
  torch::Tensor out = dec->forward(dec->PrepareContext(padded), x, t);
  EXPECT_LT((out - base).abs().max().item<float>(), 1e-5);
}

TEST(DitDecoderTest, BatchedEqualsPerSample) {
  torch::manual_seed(2);
  DecoderConfig cfg = SmallConfig();
  DitDecoder dec(cfg, 76);
  Perturb(dec);
  ConditionTokens cond = RandomCondition(4, 6, 5, cfg.width);
  torch::Tensor x = torch::randn({4, 8, 76});
  torch::Tensor t = torch::rand({4});
  torch::Tensor batched = dec->forward(dec->PrepareContext(cond), x, t);
  for (int64_t i = 0; i < 4; ++i) {
    ConditionTokens one{cond.vision.slice(0, i, i + 1), cond.vision_mask.slice(0, i, i + 1),
                        cond.text.slice(0, i, i + 1), cond.text_mask.slice(0, i, i + 1),
                        cond.prefix.slice(0, i, i + 1)};
    torch::Tensor single = dec->forward(dec->PrepareContext(one), x.slice(0, i, i + 1), t.slice(0, i, i + 1));
    EXPECT_LT((single - batched.slice(0, i, i + 1)).abs().max().item<float>(), 1e-4) << i;
  }
}

TEST(DitDecoderTest, ContextChangesOutput) {
  torch::manual_seed(3);
  DecoderConfig cfg = SmallConfig();
  DitDecoder dec(cfg, 76);
  Perturb(dec);
  ConditionTokens a = RandomCondition(1, 6, 5, cfg.width);
  ConditionTokens b = a;
  b.vision = torch::randn_like(a.vision);
  torch::Tensor x = torch::randn({1, 8, 76});
  torch::Tensor t = torch::full({1}, 0.5);
  torch::Tensor va = dec->forward(dec->PrepareContext(a), x, t);
  torch::Tensor vb = dec->forward(dec->PrepareContext(b), x, t);
  EXPECT_GT((va - vb).abs().max().item<float>(), 1e-4);
}

}  // namespace
}  // namespace mivla::model
