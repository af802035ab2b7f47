#include "core/model/mivla_model.h"

#include <cmath>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/model/flow_matching.h"
#include "core/model/synthetic_inputs.h"
#include "gtest/gtest.h"

namespace mivla::model {
namespace {

using action::Embodiment;

const std::vector<Embodiment> kMixed = {Embodiment::kHuman, Embodiment::kPiper, Embodiment::kAlohaAgilex,
                                        Embodiment::kLocoman, Embodiment::kArx5};

std::vector<int64_t> Shape(const torch::Tensor& t) { return t.sizes().vec(); }

TEST(MivlaModelTest, MixedBatchShapes) {
  torch::manual_seed(0);
  ModelConfig cfg = TinyConfig();
  MivlaModel model(cfg);
  const int64_t b = kMixed.size(), w = cfg.decoder.width, h = cfg.decoder.action_horizon;
  ModelInputs in = SyntheticInputs(cfg, kMixed, 1);
  const int64_t per_view = cfg.vision_tokens_per_view();
  ASSERT_EQ(per_view, 16 + 16);

  auto [vision, vision_mask] = model->EncodeVision(in.images, in.view_mask);
  EXPECT_EQ(Shape(vision), (std::vector<int64_t>{b, cfg.max_views * per_view, w}));
  EXPECT_EQ(Shape(vision_mask), (std::vector<int64_t>{b, cfg.max_views * per_view}));
  EXPECT_EQ(vision_mask[0].sum().item<int64_t>(), per_view);  // the human sample has one view
  EXPECT_EQ(vision_mask[1].sum().item<int64_t>(), cfg.max_views * per_view);

  torch::Tensor text = model->EncodeText(in.text_ids, in.text_mask);
  EXPECT_EQ(Shape(text), (std::vector<int64_t>{b, in.text_ids.size(1), w}));
  torch::Tensor prefix = model->EncodePrefix(in.state, in.state_mask, in.embodiment);
  EXPECT_EQ(Shape(prefix), (std::vector<int64_t>{b, DitDecoderImpl::kPrefixTokens, w}));

  ConditionTokens cond = model->Encode(in);
  DecoderContext ctx = model->PrepareDecoding(cond);
  ASSERT_EQ(static_cast<int>(ctx.blocks.size()), cfg.decoder.depth);
  const int64_t hd = w / cfg.decoder.heads;
  for (const BlockContext& bc : ctx.blocks) {
    const int64_t bh = b * cfg.decoder.heads;
    EXPECT_EQ(Shape(bc.vision.k_t), (std::vector<int64_t>{bh, hd, vision.size(1)}));
    EXPECT_EQ(Shape(bc.vision.v), (std::vector<int64_t>{bh, vision.size(1), hd}));
    EXPECT_EQ(Shape(bc.vision.bias), (std::vector<int64_t>{bh, 1, vision.size(1)}));
    EXPECT_EQ(Shape(bc.language.k_t), (std::vector<int64_t>{bh, hd, text.size(1)}));
  }
  torch::Tensor noise = SampleNoise(b, h, action::kActionDim, 7);
  torch::Tensor v = model->Velocity(ctx, noise, torch::rand({b}));
  EXPECT_EQ(Shape(v), (std::vector<int64_t>{b, h, action::kActionDim}));
  torch::Tensor a = EulerSample(*model, ctx, noise, cfg.decoder.sampling_steps);
  EXPECT_EQ(Shape(a), Shape(noise));
  EXPECT_TRUE(torch::isfinite(a).all().item<bool>());
}

void Perturb(torch::nn::Module& m) {
  torch::NoGradGuard g;
  for (auto& p : m.parameters()) p.add_(torch::randn_like(p) * 0.05);
}

TEST(MivlaModelTest, MixedBatchMatchesPerSampleForwardPasses) {
  torch::manual_seed(1);
  ModelConfig cfg = TinyConfig();
  MivlaModel model(cfg);
  Perturb(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  ModelInputs in = SyntheticInputs(cfg, kMixed, 2);
  const int64_t b = kMixed.size();
  torch::Tensor noise = SampleNoise(b, cfg.decoder.action_horizon, action::kActionDim, 3);
  torch::Tensor batched = EulerSample(*model, model->PrepareDecoding(model->Encode(in)), noise, 5);
  for (int64_t i = 0; i < b; ++i) {
    auto row = [i](const torch::Tensor& t) { return t.slice(0, i, i + 1); };
    // A sample alone carries only its own instruction length: trim padding.
    const int64_t n = in.text_mask[i].sum().item<int64_t>();
    ModelInputs one{row(in.images), row(in.view_mask), row(in.text_ids).slice(1, 0, n),
                    row(in.text_mask).slice(1, 0, n), row(in.state), row(in.state_mask), row(in.embodiment)};
    torch::Tensor single = EulerSample(*model, model->PrepareDecoding(model->Encode(one)), row(noise), 5);
    EXPECT_LT((single - row(batched)).abs().max().item<float>(), 1e-4)
        << "sample " << i << " (" << action::EmbodimentName(kMixed[i]) << ")";
  }
}

TEST(MivlaModelTest, SamplerIsDeterministicForASeed) {
  torch::manual_seed(2);
  ModelConfig cfg = TinyConfig();
  MivlaModel model(cfg);
  Perturb(*model);
  torch::NoGradGuard no_grad;
  ModelInputs in = SyntheticInputs(cfg, {Embodiment::kPiper, Embodiment::kHuman}, 4);
  DecoderContext ctx = model->PrepareDecoding(model->Encode(in));
  auto run = [&](uint64_t seed) {
    return EulerSample(*model, ctx, SampleNoise(2, cfg.decoder.action_horizon, action::kActionDim, seed), 5);
  };
  torch::Tensor a = run(42), b = run(42), c = run(43);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_GT((a - c).abs().max().item<float>(), 1e-3);
  EXPECT_TRUE(torch::equal(SampleNoise(1, 2, 3, 9), SampleNoise(1, 2, 3, 9)));
}

TEST(MivlaModelTest, EmbodimentTokenChangesThePrediction) {
  torch::manual_seed(3);
  ModelConfig cfg = TinyConfig();
  MivlaModel model(cfg);
  Perturb(*model);
  torch::NoGradGuard no_grad;
  ModelInputs in = SyntheticInputs(cfg, {Embodiment::kPiper}, 5);
  torch::Tensor noise = SampleNoise(1, cfg.decoder.action_horizon, action::kActionDim, 1);
  torch::Tensor a = EulerSample(*model, model->PrepareDecoding(model->Encode(in)), noise, 5);
  in.embodiment.fill_(static_cast<int64_t>(Embodiment::kArx5));
  torch::Tensor b = EulerSample(*model, model->PrepareDecoding(model->Encode(in)), noise, 5);
  EXPECT_GT((a - b).abs().max().item<float>(), 1e-4);
}

TEST(MivlaModelTest, FrozenEncodersDoNotTrain) {
  torch::manual_seed(4);
  ModelConfig cfg = TinyConfig();
  cfg.freeze_vision = true;
  cfg.freeze_text = true;
  MivlaModel model(cfg);
  for (const auto& p : model->dino()->parameters()) EXPECT_FALSE(p.requires_grad());
  for (const auto& p : model->text_encoder()->parameters()) EXPECT_FALSE(p.requires_grad());
  std::vector<torch::Tensor> trainable;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::optim::Adam opt(trainable, torch::optim::AdamOptions(1e-3));
  torch::Tensor dino_before = model->dino()->parameters()[0].clone();
  torch::Tensor proj_before = model->named_parameters()["dino_proj.fc0.weight"].clone();
  std::vector<Embodiment> es = {Embodiment::kPiper, Embodiment::kHuman};
  ModelInputs in = SyntheticInputs(cfg, es, 6);
  torch::Tensor actions = torch::randn({2, cfg.decoder.action_horizon, action::kActionDim});
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    FlowTargets targets{actions, EmbodimentMasks(es), ComplementMasks(es), {}, in.embodiment};
    FlowLoss loss = FlowMatchingLoss(*model, model->PrepareDecoding(model->Encode(in)), targets, {});
    loss.total.backward();
    opt.step();
  }
  EXPECT_TRUE(torch::equal(dino_before, model->dino()->parameters()[0]));
  EXPECT_FALSE(torch::equal(proj_before, model->named_parameters()["dino_proj.fc0.weight"]));
}

// ---- flow-matching loss and sampler --------------------------------------------------------------

// A known velocity field that depends on x_t and on t, so the interpolation, the sign of the target and
// the time schedule all show in the loss: v(x, t) = 0.5 x + t.
torch::Tensor KnownField(const torch::Tensor& x, const torch::Tensor& t) { return 0.5 * x + t.view({-1, 1, 1}); }

struct LossBatch {
  FlowTargets targets;
  torch::Tensor noise, t;
};

torch::Tensor MaskRow(const action::ActionMask& m) {
  torch::Tensor row = torch::zeros({action::kActionDim});
  for (int d = 0; d < action::kActionDim; ++d) row[d] = m.test(d) ? 1.0f : 0.0f;
  return row;
}

// A human sample (robot complement for PiPER, slot 57 dropped as an IK failure), a PiPER sample whose
// last 3 steps are padding, and an ALOHA sample: 48, 14 and 28 labelled values per step.
LossBatch MixedLossBatch(int64_t horizon) {
  torch::manual_seed(21);
  const std::vector<Embodiment> es = {Embodiment::kHuman, Embodiment::kPiper, Embodiment::kAlohaAgilex};
  LossBatch b;
  b.targets.actions = torch::randn({3, horizon, action::kActionDim});
  b.targets.label_mask = EmbodimentMasks(es);
  action::ActionMask human_complement = action::EmbodimentMask(Embodiment::kPiper);
  human_complement.reset(57);
  b.targets.complement_mask = torch::stack({MaskRow(human_complement), MaskRow(action::ComplementMask(es[1])),
                                            MaskRow(action::ComplementMask(es[2]))});
  b.targets.step_mask = torch::ones({3, horizon});
  b.targets.step_mask[1].slice(0, horizon - 3, horizon).fill_(0.0);
  b.targets.embodiment = torch::tensor({0, 2, 1}, torch::kLong);
  b.noise = torch::randn({3, horizon, action::kActionDim});
  b.t = torch::tensor({0.2f, 0.05f, 0.9f});
  return b;
}

// The term computed one value at a time: per sample, the mean over its valid (step, slot) values;
// `pooled` instead divides the sum over all samples by the count over all samples (the wrong weighting).
double HandTerm(const LossBatch& b, bool complement, bool human, bool pooled = false) {
  auto a = b.targets.actions.accessor<float, 3>();
  auto e = b.noise.accessor<float, 3>();
  auto m = (complement ? b.targets.complement_mask : b.targets.label_mask).accessor<float, 2>();
  auto s = b.targets.step_mask.accessor<float, 2>();
  auto emb = b.targets.embodiment.accessor<int64_t, 1>();
  double mean_sum = 0, all_sum = 0;
  int samples = 0, all_count = 0;
  for (int64_t i = 0; i < a.size(0); ++i) {
    if ((emb[i] == 0) != human) continue;
    const double t = b.t[i].item<double>();
    double sum = 0;
    int count = 0;
    for (int64_t h = 0; h < a.size(1); ++h) {
      for (int64_t d = 0; d < a.size(2); ++d) {
        if (m[i][d] == 0 || s[i][h] == 0) continue;
        const double x = t * a[i][h][d] + (1 - t) * e[i][h][d];
        const double err = (0.5 * x + t) - (a[i][h][d] - e[i][h][d]);
        sum += err * err;
        ++count;
      }
    }
    if (count == 0) continue;
    mean_sum += sum / count;
    ++samples;
    all_sum += sum;
    all_count += count;
  }
  if (pooled) return all_count ? all_sum / all_count : 0.0;
  return samples ? mean_sum / samples : 0.0;
}

TEST(FlowMatchingTest, EachTermIsAveragedPerSampleThenOverSamples) {
  const LossBatch b = MixedLossBatch(6);
  FlowLossOptions o;
  o.complement_weight = 0.5;
  FlowLoss loss = FlowMatchingLoss(KnownField, b.targets, o, b.noise, b.t);
  const double robot = HandTerm(b, false, false), r2h = HandTerm(b, true, false);
  const double human = HandTerm(b, false, true), h2r = HandTerm(b, true, true);
  EXPECT_NEAR(loss.robot.item<double>(), robot, 1e-4 * robot);
  EXPECT_NEAR(loss.robot_to_human.item<double>(), r2h, 1e-4 * r2h);
  EXPECT_NEAR(loss.human.item<double>(), human, 1e-4 * human);
  EXPECT_NEAR(loss.human_to_robot.item<double>(), h2r, 1e-4 * h2r);
  EXPECT_NEAR(loss.total.item<double>(), robot + human + 0.5 * (r2h + h2r), 1e-4 * (robot + human));
  EXPECT_EQ(loss.robot_samples, 2);
  EXPECT_EQ(loss.robot_to_human_samples, 2);
  EXPECT_EQ(loss.human_samples, 1);
  EXPECT_EQ(loss.human_to_robot_samples, 1);
  // The batch is built so that pooling all values of the two robot samples gives a different number:
  // the test would catch a batch-wide average (ALOHA's 28 slots outweighing PiPER's 14 x 13 steps).
  EXPECT_GT(std::abs(HandTerm(b, false, false, true) - robot), 1e-2 * robot);
  EXPECT_GT(std::abs(HandTerm(b, true, false, true) - r2h), 1e-2 * r2h);
}

TEST(FlowMatchingTest, EachSwitchedOffTermContributesNothing) {
  const LossBatch b = MixedLossBatch(4);
  FlowLoss all = FlowMatchingLoss(KnownField, b.targets, {}, b.noise, b.t);
  const torch::Tensor human = (b.targets.embodiment == 0).to(torch::kFloat32).view({3, 1});
  // Where in [B, 76] each term reads: robot, robot -> human, human, human -> robot.
  const std::vector<torch::Tensor> regions = {b.targets.label_mask * (1 - human),
                                              b.targets.complement_mask * (1 - human),
                                              b.targets.label_mask * human, b.targets.complement_mask * human};
  const std::vector<torch::Tensor> values = {all.robot, all.robot_to_human, all.human, all.human_to_robot};
  for (int off = 0; off < 4; ++off) {
    FlowLossOptions o;
    o.complement_weight = 0.25;
    bool* switches[] = {&o.robot_term, &o.robot_to_human_term, &o.human_term, &o.human_to_robot_term};
    *switches[off] = false;
    // A learnable offset per (sample, slot): its gradient shows which values reach the loss.
    torch::Tensor w = torch::zeros({3, 1, action::kActionDim}, torch::requires_grad());
    FlowLoss loss = FlowMatchingLoss([&](const torch::Tensor& x, const torch::Tensor& t) { return KnownField(x, t) + w; },
                                     b.targets, o, b.noise, b.t);
    double expected = 0;
    for (int k = 0; k < 4; ++k) {
      if (k != off) expected += (k % 2 == 1 ? 0.25 : 1.0) * values[k].item<double>();
    }
    EXPECT_NEAR(loss.total.item<double>(), expected, 1e-5 * expected) << "term " << off << " off";
    loss.total.backward();
    torch::Tensor grad = w.grad().squeeze(1);
    for (int k = 0; k < 4; ++k) {
      const double g = (grad * regions[k]).abs().sum().item<double>();
      if (k == off) {
        EXPECT_EQ(g, 0.0) << "switched-off term " << k << " still has a gradient";
      } else {
        EXPECT_GT(g, 1e-3) << "term " << k << " (on, with " << off << " off) has no gradient";
      }
    }
  }
  // A batch without human samples: the human terms are 0 from 0 samples, the total stays finite.
  LossBatch robots = b;
  robots.targets.embodiment = torch::tensor({1, 2, 1}, torch::kLong);
  FlowLoss r = FlowMatchingLoss(KnownField, robots.targets, {}, robots.noise, robots.t);
  EXPECT_EQ(r.human_samples, 0);
  EXPECT_EQ(r.human.item<double>(), 0.0);
  EXPECT_EQ(r.robot_samples, 3);
  EXPECT_TRUE(std::isfinite(r.total.item<double>()));
}

TEST(FlowMatchingTest, ModelLossUsesTheModelVelocityWithTheRightSign) {
  // A fresh decoder returns its output bias exactly; set it to a per-slot constant c, so the loss on a
  // slot is (c - (a - eps))^2 with non-zero noise: a flipped target sign or a missing noise term changes it.
  torch::manual_seed(5);
  ModelConfig cfg = TinyConfig();
  MivlaModel model(cfg);
  torch::NoGradGuard no_grad;
  torch::Tensor c = torch::linspace(-1.0, 1.0, action::kActionDim);
  model->decoder()->named_parameters()["action_out.fc1.bias"].copy_(c);
  std::vector<Embodiment> es = {Embodiment::kPiper, Embodiment::kHuman};
  ModelInputs in = SyntheticInputs(cfg, es, 7);
  DecoderContext ctx = model->PrepareDecoding(model->Encode(in));
  LossBatch b;
  const int64_t h = cfg.decoder.action_horizon;
  b.targets = {torch::randn({2, h, action::kActionDim}), EmbodimentMasks(es), ComplementMasks(es), {},
               in.embodiment};
  b.noise = torch::randn({2, h, action::kActionDim});
  b.t = torch::tensor({0.3f, 0.7f});
  FlowLoss loss = FlowMatchingLoss(*model, ctx, b.targets, {}, b.noise, b.t);
  torch::Tensor err2 = (c.view({1, 1, -1}) - (b.targets.actions - b.noise)).pow(2);
  auto mean_over = [&](int64_t i, const torch::Tensor& mask) {
    return ((err2[i] * mask[i]).sum() / (mask[i].sum() * h)).item<double>();
  };
  EXPECT_NEAR(loss.robot.item<double>(), mean_over(0, b.targets.label_mask), 1e-4);
  EXPECT_NEAR(loss.robot_to_human.item<double>(), mean_over(0, b.targets.complement_mask), 1e-4);
  EXPECT_NEAR(loss.human.item<double>(), mean_over(1, b.targets.label_mask), 1e-4);
  EXPECT_NEAR(loss.human_to_robot.item<double>(), mean_over(1, b.targets.complement_mask), 1e-4);
}

TEST(FlowMatchingTest, EulerFollowsTheTimeSchedule) {
  // v(x, t) = t: x_1 = x_0 + sum_k (k / K) / K = x_0 + (K - 1) / (2K); an integrator that starts at
  // t = 1/K or steps t twice gives another number. v(x, t) = x: x_1 = x_0 (1 + 1/K)^K.
  torch::Tensor x0 = torch::randn({2, 3, 4});
  auto time_field = [](const torch::Tensor& x, const torch::Tensor& t) {
    return torch::zeros_like(x) + t.view({-1, 1, 1});
  };
  auto linear_field = [](const torch::Tensor& x, const torch::Tensor&) { return x; };
  for (int k : {1, 2, 5, 10}) {
    EXPECT_LT((EulerSample(time_field, x0, k) - (x0 + (k - 1.0) / (2.0 * k))).abs().max().item<float>(), 1e-5) << k;
    EXPECT_LT((EulerSample(linear_field, x0, k) - x0 * std::pow(1.0 + 1.0 / k, k)).abs().max().item<float>(), 1e-4)
        << k;
  }
}

TEST(FlowMatchingTest, EulerDrivesTheModel) {
  // The model path: a fresh decoder returns its output bias, so K Euler steps of a constant field c land on
  // noise + c; checks that EulerSample(model, ...) feeds the model's output into the integrator.
  torch::manual_seed(6);
  ModelConfig cfg = TinyConfig();
  MivlaModel model(cfg);
  torch::NoGradGuard no_grad;
  auto params = model->decoder()->named_parameters();
  const std::string bias_name = "action_out.fc1.bias";
  ASSERT_TRUE(params.contains(bias_name));
  torch::Tensor c = torch::linspace(-0.5, 0.5, action::kActionDim);
  params[bias_name].copy_(c);
  ModelInputs in = SyntheticInputs(cfg, {Embodiment::kArx5}, 8);
  DecoderContext ctx = model->PrepareDecoding(model->Encode(in));
  torch::Tensor noise = SampleNoise(1, cfg.decoder.action_horizon, action::kActionDim, 11);
  for (int k : {1, 5}) {
    EXPECT_LT((EulerSample(*model, ctx, noise, k) - (noise + c)).abs().max().item<float>(), 1e-5) << k;
  }
}

}  // namespace
}  // namespace mivla::model
