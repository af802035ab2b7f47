#include "trainer/train/collator.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace mivla::trainer {
namespace {

using action::Embodiment;
using action::kActionDim;

constexpr int kH = 4;

std::string TokenizerPath() { return std::string(MIVLA_SOURCE_DIR) + "/" + tokenizer::kTinyTokenizerModelPath; }

data::UnifiedVector Values(double base) {
  data::UnifiedVector v{};
  for (int d = 0; d < kActionDim; ++d) v[d] = base + 0.01 * d;
  return v;
}

// A PiPER sample with two views (64x48 red, 32x32 green), labelled right-arm slots, human complement.
data::Sample RobotSample() {
  data::Sample s;
  s.embodiment = Embodiment::kPiper;
  s.frame = 5;
  s.instruction = "press the bell";
  s.instructions = {"press the bell", "push the red button", "ring the bell on the table"};
  s.images = {{"head_camera", data::RgbImage::Solid(64, 48, 200, 0, 0)},
              {"right_camera", data::RgbImage::Solid(32, 32, 0, 150, 0)}};
  s.proprio = Values(0.5);
  s.proprio_mask = action::EmbodimentMask(Embodiment::kPiper) | action::ComplementMask(Embodiment::kPiper);
  s.label_mask = action::EmbodimentMask(Embodiment::kPiper);
  s.complement_mask = action::ComplementMask(Embodiment::kPiper);
  for (int k = 0; k < kH; ++k) {
    s.actions.push_back(Values(0.6 + 0.1 * k));
    s.step_masks.push_back(s.proprio_mask);
    s.step_valid.push_back(k < 3);
  }
  s.action_mask = s.proprio_mask;
  return s;
}

// A human sample with one view, one instruction, no complement.
data::Sample HumanSample() {
  data::Sample s;
  s.embodiment = Embodiment::kHuman;
  s.instruction = "pick up the cup";
  s.images = {{"camera", data::RgbImage::Solid(56, 56, 10, 20, 30)}};
  s.proprio = Values(-0.2);
  s.proprio_mask = action::EmbodimentMask(Embodiment::kHuman);
  s.label_mask = s.proprio_mask;
  for (int k = 0; k < kH; ++k) {
    s.actions.push_back(Values(-0.3 - 0.1 * k));
    s.step_masks.push_back(s.proprio_mask);
    s.step_valid.push_back(true);
  }
  return s;
}

class CollatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tok = tokenizer::Tokenizer::FromFile(TokenizerPath());
    ASSERT_TRUE(tok.ok()) << tok.status();
    tokenizer_ = std::move(*tok);
    // Statistics that really move values: min-max over a spread of vectors per embodiment.
    action::NormalizationStatsBuilder b;
    for (Embodiment e : {Embodiment::kPiper, Embodiment::kHuman}) {
      for (double base : {-1.0, -0.4, 0.3, 1.7}) {
        std::array<float, kActionDim> v;
        for (int d = 0; d < kActionDim; ++d) v[d] = static_cast<float>(Values(base)[d] * (1 + 0.1 * d));
        b.Add(e, v.data(), action::ActionMask().set());
      }
    }
    stats_ = b.Build();
    options_.image_size = 16;
    options_.max_views = 3;
    options_.max_text_tokens = 12;
    options_.horizon = kH;
    options_.augment.enabled = false;
  }

  std::vector<CollatorItem> Items(uint64_t seed) {
    std::vector<CollatorItem> items(2);
    items[0].sample = RobotSample();
    items[0].source = "robot";
    items[0].episode = "robot.hdf5";
    items[0].file_frame = 15;
    items[0].seed = seed;
    items[1].sample = HumanSample();
    items[1].source = "human";
    items[1].seed = seed + 1;
    return items;
  }

  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  action::NormalizationStats stats_;
  CollatorOptions options_;
};

TEST_F(CollatorTest, ShapesMasksAndPadding) {
  Collator collator(options_, &stats_, tokenizer_.get());
  auto b = collator.Collate(Items(3), 7);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->index, 7u);
  EXPECT_EQ(b->sources, (std::vector<std::string>{"robot", "human"}));
  EXPECT_EQ(b->frames[0], 15);
  const model::ModelInputs& in = b->inputs;
  EXPECT_EQ(in.images.sizes(), (torch::IntArrayRef{2, 3, 3, 16, 16}));
  EXPECT_EQ(in.text_ids.sizes(), (torch::IntArrayRef{2, 12}));
  EXPECT_EQ(b->targets.actions.sizes(), (torch::IntArrayRef{2, kH, kActionDim}));
  // Views: present first, padded with zeros and view_mask false.
  EXPECT_TRUE(torch::equal(in.view_mask, torch::tensor({true, true, false, true, false, false}).view({2, 3})));
  EXPECT_EQ(in.images[0][2].abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(in.images[1][1].abs().sum().item<float>(), 0.0f);
  // Solid colours survive the resize: red head camera, green wrist camera, human (10, 20, 30).
  EXPECT_NEAR(in.images[0][0][0].mean().item<float>(), 200 / 255.0, 1e-6);
  EXPECT_NEAR(in.images[0][0][1].abs().max().item<float>(), 0.0, 1e-6);
  EXPECT_NEAR(in.images[0][1][1].mean().item<float>(), 150 / 255.0, 1e-6);
  EXPECT_NEAR(in.images[1][0][2].mean().item<float>(), 30 / 255.0, 1e-6);
  // Text: ids then pad 0 with mask false; the human sample's only phrasing.
  const std::vector<int64_t> human_ids = tokenizer_->Encode("pick up the cup", 12);
  for (int l = 0; l < 12; ++l) {
    const bool real = l < static_cast<int>(human_ids.size());
    EXPECT_EQ(in.text_mask[1][l].item<bool>(), real) << l;
    EXPECT_EQ(in.text_ids[1][l].item<int64_t>(), real ? human_ids[l] : 0) << l;
  }
  // Masks and embodiment.
  const action::ActionMask piper = action::EmbodimentMask(Embodiment::kPiper);
  const action::ActionMask human_c = action::ComplementMask(Embodiment::kPiper);
  for (int d = 0; d < kActionDim; ++d) {
    EXPECT_EQ(in.state_mask[0][d].item<float>(), piper.test(d) ? 1.0f : 0.0f) << d;  // own slots only
    EXPECT_EQ(b->targets.label_mask[0][d].item<float>(), piper.test(d) ? 1.0f : 0.0f) << d;
    EXPECT_EQ(b->targets.complement_mask[0][d].item<float>(), human_c.test(d) ? 1.0f : 0.0f) << d;
    EXPECT_EQ(b->targets.complement_mask[1][d].item<float>(), 0.0f) << d;
    if (!piper.test(d)) {
      EXPECT_EQ(in.state[0][d].item<float>(), 0.0f) << d;
    }
  }
  EXPECT_TRUE(torch::equal(b->targets.step_mask, torch::tensor({1.f, 1.f, 1.f, 0.f, 1.f, 1.f, 1.f, 1.f}).view({2, kH})));
  EXPECT_TRUE(torch::equal(in.embodiment, torch::tensor({2L, 0L})));
  EXPECT_TRUE(torch::equal(b->targets.embodiment, in.embodiment));
}

TEST_F(CollatorTest, DenormalisingGivesTheRawValuesBack) {
  Collator collator(options_, &stats_, tokenizer_.get());
  const std::vector<CollatorItem> items = Items(3);
  auto b = collator.Collate(items, 0);
  ASSERT_TRUE(b.ok()) << b.status();
  bool moved = false;
  for (int i = 0; i < 2; ++i) {
    const data::Sample& s = items[i].sample;
    const action::ActionMask own = s.proprio_mask & action::EmbodimentMask(s.embodiment);
    std::array<float, kActionDim> state;
    for (int d = 0; d < kActionDim; ++d) state[d] = b->inputs.state[i][d].item<float>();
    stats_.Denormalize(s.embodiment, state.data(), own);
    for (int d = 0; d < kActionDim; ++d) {
      if (!own.test(d)) continue;
      EXPECT_NEAR(state[d], s.proprio[d], 1e-5) << i << " " << d;
      if (std::abs(b->inputs.state[i][d].item<float>() - s.proprio[d]) > 1e-3) moved = true;
    }
    const action::ActionMask targets = s.label_mask | s.complement_mask;
    for (int k = 0; k < kH; ++k) {
      std::array<float, kActionDim> a;
      for (int d = 0; d < kActionDim; ++d) a[d] = b->targets.actions[i][k][d].item<float>();
      stats_.Denormalize(s.embodiment, a.data(), targets);
      for (int d = 0; d < kActionDim; ++d) {
        if (targets.test(d)) {
          EXPECT_NEAR(a[d], s.actions[k][d], 1e-5) << i << " " << k << " " << d;
        } else {
          EXPECT_EQ(b->targets.actions[i][k][d].item<float>(), 0.0f);
        }
      }
    }
  }
  EXPECT_TRUE(moved) << "normalisation changed nothing";
}

TEST_F(CollatorTest, PhrasingIsDrawnAmongTheInstructionsBySeed) {
  Collator collator(options_, &stats_, tokenizer_.get());
  const data::Sample robot = RobotSample();
  std::map<std::string, int> counts;
  for (uint64_t seed = 0; seed < 300; ++seed) ++counts[Collator::Phrasing(robot, seed)];
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [text, n] : counts) EXPECT_GT(n, 60) << text;
  // Collate tokenises exactly the phrasing Phrasing() names, and the same seed gives the same batch.
  for (uint64_t seed : {0u, 1u, 2u, 5u, 8u}) {
    auto b = collator.Collate(Items(seed), 0);
    ASSERT_TRUE(b.ok());
    const std::vector<int64_t> ids = tokenizer_->Encode(Collator::Phrasing(robot, seed), 12);
    for (size_t l = 0; l < ids.size(); ++l) EXPECT_EQ(b->inputs.text_ids[0][l].item<int64_t>(), ids[l]);
    auto again = collator.Collate(Items(seed), 0);
    EXPECT_TRUE(torch::equal(b->inputs.text_ids, again->inputs.text_ids));
  }
}

TEST_F(CollatorTest, AugmentationFollowsTheSeed) {
  options_.augment.enabled = true;
  options_.augment.max_shift_frac = 0.2;
  Collator collator(options_, &stats_, tokenizer_.get());
  std::vector<CollatorItem> items = Items(3);
  for (auto& item : items) {
    for (auto& [name, img] : item.sample.images) {  // textured, so shifts show
      for (int y = 0; y < img.height; ++y) {
        for (int x = 0; x < img.width; ++x) img.at(x, y)[0] = static_cast<uint8_t>(3 * x + 2 * y);
      }
    }
  }
  auto a = collator.Collate(items, 0);
  auto same = collator.Collate(items, 0);
  items[0].seed = 1000;
  auto other = collator.Collate(items, 0);
  ASSERT_TRUE(a.ok() && same.ok() && other.ok());
  EXPECT_TRUE(torch::equal(a->inputs.images, same->inputs.images));
  EXPECT_FALSE(torch::equal(a->inputs.images[0], other->inputs.images[0]));
  EXPECT_TRUE(torch::equal(a->inputs.images[1], other->inputs.images[1]));  // the other sample's seed
}

TEST_F(CollatorTest, ProprioDropoutLeavesStatesOutBySeedAndNothingElse) {
  Collator plain(options_, &stats_, tokenizer_.get());
  options_.augment.proprio_dropout = 0.5;
  Collator dropping(options_, &stats_, tokenizer_.get());
  int dropped = 0, kept = 0;
  for (uint64_t seed = 0; seed < 40; seed += 2) {
    auto base = plain.Collate(Items(seed), 0);
    auto a = dropping.Collate(Items(seed), 0);
    auto same = dropping.Collate(Items(seed), 0);
    ASSERT_TRUE(base.ok() && a.ok() && same.ok());
    EXPECT_TRUE(torch::equal(a->inputs.state, same->inputs.state));  // the seed decides
    EXPECT_TRUE(torch::equal(a->inputs.images, base->inputs.images));
    EXPECT_TRUE(torch::equal(a->inputs.text_ids, base->inputs.text_ids));
    EXPECT_TRUE(torch::equal(a->targets.actions, base->targets.actions));
    for (int i = 0; i < 2; ++i) {
      if (a->inputs.state_mask[i].sum().item<float>() == 0) {
        ++dropped;
        EXPECT_EQ(a->inputs.state[i].abs().sum().item<float>(), 0.0f);
        EXPECT_GT(base->inputs.state_mask[i].sum().item<float>(), 0.0f);
      } else {
        ++kept;
        EXPECT_TRUE(torch::equal(a->inputs.state[i], base->inputs.state[i]));
        EXPECT_TRUE(torch::equal(a->inputs.state_mask[i], base->inputs.state_mask[i]));
      }
    }
  }
  // 40 samples at p = 0.5: both outcomes occur (each has probability 2^-40 of not occurring).
  EXPECT_GT(dropped, 5);
  EXPECT_GT(kept, 5);
  options_.augment.proprio_dropout = 1.0;
  Collator always(options_, &stats_, tokenizer_.get());
  auto all = always.Collate(Items(1), 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->inputs.state_mask.sum().item<float>(), 0.0f);
}

TEST_F(CollatorTest, BadSamplesAreErrors) {
  Collator collator(options_, &stats_, tokenizer_.get());
  EXPECT_EQ(collator.Collate({}, 0).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<CollatorItem> items = Items(0);
  items[1].sample.actions.pop_back();
  auto b = collator.Collate(items, 0);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(b.status().message()).find("sample 1"), std::string::npos) << b.status();
  items = Items(0);
  items[0].sample.images[1].second.rgb.resize(5);
  b = collator.Collate(items, 0);
  EXPECT_NE(std::string(b.status().message()).find("right_camera"), std::string::npos) << b.status();
}

}  // namespace
}  // namespace mivla::trainer
