#include "trainer/train/collator.h"

#include <algorithm>
#include <array>
#include <utility>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace mivla::trainer {
namespace {

using action::kActionDim;

std::array<float, kActionDim> ToFloat(const data::UnifiedVector& v) {
  std::array<float, kActionDim> out;
  for (int d = 0; d < kActionDim; ++d) out[d] = static_cast<float>(v[d]);
  return out;
}

// Writes the masked, normalised values of `v` into dst[76] (0 off the mask) and the mask into mask_out.
void WriteNormalised(const action::NormalizationStats& stats, action::Embodiment e, const data::UnifiedVector& v,
                     const action::ActionMask& mask, float* dst, float* mask_out) {
  std::array<float, kActionDim> values = ToFloat(v);
  stats.Normalize(e, values.data(), mask);
  for (int d = 0; d < kActionDim; ++d) {
    dst[d] = mask.test(d) ? values[d] : 0.0f;
    if (mask_out != nullptr) mask_out[d] = mask.test(d) ? 1.0f : 0.0f;
  }
}

void WriteMask(const action::ActionMask& mask, float* dst) {
  for (int d = 0; d < kActionDim; ++d) dst[d] = mask.test(d) ? 1.0f : 0.0f;
}

}  // namespace

Collator::Collator(CollatorOptions options, const action::NormalizationStats* stats,
                   const tokenizer::Tokenizer* tokenizer)
    : options_(std::move(options)), stats_(stats), tokenizer_(tokenizer) {}

const std::string& Collator::Phrasing(const data::Sample& sample, uint64_t seed) {
  if (sample.instructions.empty()) return sample.instruction;
  SampleRng rng(seed);
  return sample.instructions[rng.Below(sample.instructions.size())];
}

absl::StatusOr<TrainBatch> Collator::Collate(const std::vector<CollatorItem>& items, uint64_t index) const {
  if (items.empty()) return absl::InvalidArgumentError("collate: empty batch");
  const int64_t B = static_cast<int64_t>(items.size());
  const int64_t V = options_.max_views, S = options_.image_size, L = options_.max_text_tokens;
  const int64_t H = options_.horizon, D = kActionDim;
  if (V < 1 || S < 1 || L < 1 || H < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("collate: max_views ", V, ", image_size ", S, ", max_text_tokens ", L, ", horizon ", H,
                     " must all be >= 1"));
  }
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  const auto boolean = torch::TensorOptions().dtype(torch::kBool);
  TrainBatch batch;
  batch.index = index;
  model::ModelInputs& in = batch.inputs;
  model::FlowTargets& tg = batch.targets;
  in.images = torch::zeros({B, V, 3, S, S}, f32);
  in.view_mask = torch::zeros({B, V}, boolean);
  in.text_ids = torch::zeros({B, L}, i64);
  in.text_mask = torch::zeros({B, L}, boolean);
  in.state = torch::zeros({B, D}, f32);
  in.state_mask = torch::zeros({B, D}, f32);
  in.embodiment = torch::zeros({B}, i64);
  tg.actions = torch::zeros({B, H, D}, f32);
  tg.label_mask = torch::zeros({B, D}, f32);
  tg.complement_mask = torch::zeros({B, D}, f32);
  tg.step_mask = torch::zeros({B, H}, f32);

  float* images = in.images.data_ptr<float>();
  bool* view_mask = in.view_mask.data_ptr<bool>();
  int64_t* text_ids = in.text_ids.data_ptr<int64_t>();
  bool* text_mask = in.text_mask.data_ptr<bool>();
  float* state = in.state.data_ptr<float>();
  float* state_mask = in.state_mask.data_ptr<float>();
  int64_t* embodiment = in.embodiment.data_ptr<int64_t>();
  float* actions = tg.actions.data_ptr<float>();
  float* label_mask = tg.label_mask.data_ptr<float>();
  float* complement_mask = tg.complement_mask.data_ptr<float>();
  float* step_mask = tg.step_mask.data_ptr<float>();

  for (int64_t i = 0; i < B; ++i) {
    const CollatorItem& item = items[i];
    const data::Sample& s = item.sample;
    const std::string where = absl::StrCat("collate: sample ", i, " (", item.episode, " frame ", s.frame, ")");
    if (static_cast<int64_t>(s.actions.size()) != H || static_cast<int64_t>(s.step_masks.size()) != H ||
        static_cast<int64_t>(s.step_valid.size()) != H) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": chunk of ", s.actions.size(), " steps, horizon is ", H));
    }
    SampleRng rng(item.seed);
    // Instruction: one phrasing (the generator's first draw), tokenised and padded.
    const std::string& text =
        s.instructions.empty() ? s.instruction : s.instructions[rng.Below(s.instructions.size())];
    const std::vector<int64_t> ids = tokenizer_->Encode(text, static_cast<int>(L));
    std::copy(ids.begin(), ids.end(), text_ids + i * L);
    std::fill(text_mask + i * L, text_mask + i * L + static_cast<int64_t>(ids.size()), true);
    // Views, present ones first, then augmented.
    const int64_t views = std::min<int64_t>(V, static_cast<int64_t>(s.images.size()));
    for (int64_t v = 0; v < views; ++v) {
      const data::RgbImage& raw = s.images[v].second;
      if (!raw.valid()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": camera ", s.images[v].first, " image is invalid"));
      }
      const data::RgbImage img = ResizeSquare(raw, static_cast<int>(S));
      const AugmentParams p = DrawAugment(options_.augment, img.width, img.height, &rng);
      WriteAugmented(img, p, images + ((i * V + v) * 3) * S * S);
      view_mask[i * V + v] = true;
    }
    // Proprioception: the sample's own valid slots only (what a robot sends the server), unless dropped.
    const action::Embodiment e = s.embodiment;
    const bool drop_state = options_.augment.proprio_dropout > 0 && rng.Uniform() < options_.augment.proprio_dropout;
    if (!drop_state) {
      const action::ActionMask own = s.proprio_mask & action::EmbodimentMask(e);
      WriteNormalised(*stats_, e, s.proprio, own, state + i * D, state_mask + i * D);
    }
    embodiment[i] = static_cast<int64_t>(e);
    // Targets.
    WriteMask(s.label_mask, label_mask + i * D);
    WriteMask(s.complement_mask, complement_mask + i * D);
    const action::ActionMask targets = s.label_mask | s.complement_mask;
    for (int64_t k = 0; k < H; ++k) {
      WriteNormalised(*stats_, e, s.actions[k], targets & s.step_masks[k], actions + (i * H + k) * D, nullptr);
      step_mask[i * H + k] = s.step_valid[k] ? 1.0f : 0.0f;
    }
    batch.sources.push_back(item.source);
    batch.episodes.push_back(item.episode);
    batch.frames.push_back(item.file_frame);
  }
  tg.embodiment = in.embodiment.clone();
  return batch;
}

}  // namespace mivla::trainer
