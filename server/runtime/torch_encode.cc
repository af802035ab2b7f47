// TorchPolicyRuntime::Encode: staging rows from parsed observations, then the encoders once per batch.
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/model/torch_status.h"
#include "core/util/status_prefix.h"
#include "server/runtime/device_images.h"
#include "server/runtime/torch_condition.h"
#include "server/runtime/torch_policy_runtime.h"

namespace mivla::server {
namespace {

constexpr float kMaxNormalized = 100.0f;

// Checks one observation against the version's input geometry: decoded images must have the input
// side; JPEG images (any size) need a runtime that decodes them.
absl::Status CheckObservation(const RuntimeObservation& o, const model::ModelConfig& c, int side, bool decodes_jpeg,
                              const std::string& version) {
  if (static_cast<int>(o.images.size()) > c.max_views) {
    return absl::InvalidArgumentError(
        absl::StrCat("images: ", o.images.size(), " views; model version ", version, " takes at most ", c.max_views));
  }
  for (const RuntimeImage& im : o.images) {
    if (!im.jpeg.empty()) {
      if (decodes_jpeg) continue;
      return absl::FailedPreconditionError(absl::StrCat("observation images are JPEG; model version ", version,
                                                        " takes decoded images: send a new observation"));
    }
    if (im.width != side || im.height != side || im.rgb.size() != static_cast<size_t>(side) * side * 3) {
      return absl::FailedPreconditionError(absl::StrCat("observation images are ", im.width, "x", im.height,
                                                        "; model version ", version, " takes ", side, "x", side,
                                                        ": send a new observation"));
    }
  }
  return absl::OkStatus();
}

// A JPEG image of the batch: its staging row and view.
struct JpegSlot {
  int row = 0;
  int64_t view = 0;
  const std::string* bytes = nullptr;
};

// Decodes and resizes the batch's JPEG images on the device into `images` ([rows, views, 3, S, S] on the
// device); a row whose image does not decode gets its status in `failed` (INVALID_ARGUMENT naming it).
void DecodeJpegsOnDevice(const JpegDecoder& decoder, ResizeWeightCache& weights, const std::vector<JpegSlot>& slots,
                         int side, at::Tensor& images, std::map<int, absl::Status>* failed) {
  std::vector<const std::string*> bytes;
  for (const JpegSlot& j : slots) bytes.push_back(j.bytes);
  std::vector<absl::StatusOr<at::Tensor>> decoded = decoder.Decode(bytes, images.device());
  std::vector<at::Tensor> good;
  std::vector<size_t> good_slot;
  for (size_t k = 0; k < slots.size(); ++k) {
    if (decoded[k].ok()) {
      good.push_back(*std::move(decoded[k]));
      good_slot.push_back(k);
    } else {
      failed->emplace(slots[k].row,
                      WithPrefix(decoded[k].status(), absl::StrCat("images[", slots[k].view, "].data: ")));
    }
  }
  if (good.empty()) return;
  at::Tensor resized = ResizeOnDevice(good, side, &weights);
  for (size_t g = 0; g < good.size(); ++g) images[slots[good_slot[g]].row][slots[good_slot[g]].view].copy_(resized[g]);
}

// One observation into staging row `r`: its decoded images ([3, S, S] floats in [0, 1]; JPEG ones are
// listed in *jpegs, for the device), its view mask, and its proprioception normalised with `stats` and
// clamped. The instruction is staged apart (RowTexts).
void StageObservation(const RuntimeObservation& o, int r, const model::ModelConfig& c, int side,
                      const action::NormalizationStats& stats, EncodeStaging* s, std::vector<JpegSlot>* jpegs) {
  s->view_mask[r].fill_(false);
  for (size_t v = 0; v < o.images.size(); ++v) {
    if (!o.images[v].jpeg.empty()) {
      jpegs->push_back({r, static_cast<int64_t>(v), &o.images[v].jpeg});
      continue;
    }
    at::Tensor hwc = torch::from_blob(const_cast<uint8_t*>(o.images[v].rgb.data()), {side, side, 3}, torch::kUInt8);
    s->images[r][static_cast<int64_t>(v)].copy_(hwc.permute({2, 0, 1}).to(torch::kFloat).div_(255.0f));
  }
  const int64_t views = static_cast<int64_t>(o.images.size());
  s->images[r].narrow(0, views, c.max_views - views).zero_();
  s->view_mask[r].narrow(0, 0, views).fill_(true);
  std::array<float, action::kActionDim> st = o.state;
  stats.Normalize(o.embodiment, st.data(), o.state_mask);
  float* state = s->state[r].data_ptr<float>();
  float* mask = s->state_mask[r].data_ptr<float>();
  for (int d = 0; d < action::kActionDim; ++d) {
    // Range checks keep inputs near the training data; the clamp is the backstop that keeps an
    // extreme normalised value (degenerate statistics) from reaching the model.
    const bool on = o.state_mask.test(d) && std::isfinite(st[d]);
    state[d] = on ? std::clamp(st[d], -kMaxNormalized, kMaxNormalized) : 0.0f;
    mask[d] = o.state_mask.test(d) ? 1.0f : 0.0f;
  }
  s->embodiment[r].fill_(static_cast<int64_t>(o.embodiment));
}

// The rows' encoded instructions: from the version's cache, or encoded once per distinct instruction the
// cache lacks (only those are tokenized).
struct RowTexts {
  std::vector<at::Tensor> tokens, mask;            // per staging row
  std::map<std::string, std::vector<int>> misses;  // instruction -> its rows, while not yet encoded

  RowTexts(const std::vector<const std::string*>& instructions, model::InstructionCache& cache)
      : tokens(instructions.size()), mask(instructions.size()) {
    for (size_t r = 0; r < instructions.size(); ++r) {
      if (std::optional<model::EncodedInstruction> hit = cache.Lookup(*instructions[r])) {
        tokens[r] = hit->tokens, mask[r] = hit->mask;
      } else {
        misses[*instructions[r]].push_back(static_cast<int>(r));
      }
    }
  }

  // Tokenizes each missing instruction into its first row's staging text; the other rows stay unused.
  void StageMisses(const tokenizer::Tokenizer& tok, int max_tokens, EncodeStaging* s) const {
    for (const auto& [text, rows] : misses) {
      const int64_t r = rows[0];
      std::vector<int64_t> ids = tok.Encode(text, max_tokens);
      s->text_ids[r].zero_();
      s->text_mask[r].fill_(false);
      std::copy(ids.begin(), ids.end(), s->text_ids[r].data_ptr<int64_t>());
      s->text_mask[r].narrow(0, 0, static_cast<int64_t>(ids.size())).fill_(true);
    }
  }

  // Encodes the missing instructions in one batch on `dev`, caches them and fills their rows.
  void EncodeMisses(model::MivlaModelImpl& m, const EncodeStaging& s, const c10::Device& dev,
                    model::InstructionCache& cache) {
    if (misses.empty()) return;
    std::vector<int64_t> firsts;
    for (const auto& [text, rows] : misses) firsts.push_back(rows[0]);
    at::Tensor index = torch::tensor(firsts, torch::kLong);
    at::Tensor ids = s.text_ids.index_select(0, index).to(dev);
    at::Tensor masks = s.text_mask.index_select(0, index).to(dev);
    at::Tensor enc = m.EncodeText(ids, masks);
    int k = 0;
    for (const auto& [text, rows] : misses) {
      model::EncodedInstruction e{enc[k].clone(), masks[k].clone()};
      cache.Insert(text, e);
      for (int r : rows) tokens[r] = e.tokens, mask[r] = e.mask;
      ++k;
    }
    misses.clear();
  }
};

}  // namespace

std::vector<absl::StatusOr<ConditionPtr>> TorchPolicyRuntime::Encode(
    absl::Span<const RuntimeObservation* const> batch) const {
  const model::ModelConfig& c = config();
  std::vector<absl::StatusOr<ConditionPtr>> out(batch.size(), absl::InternalError("not encoded"));
  std::vector<int> rows;  // batch index of each staging row
  std::vector<const std::string*> instructions;
  for (size_t i = 0; i < batch.size(); ++i) {
    absl::Status s = CheckObservation(*batch[i], c, image_size_, info_.decodes_jpeg, info_.version);
    if (s.ok()) {
      rows.push_back(static_cast<int>(i));
      instructions.push_back(&batch[i]->instruction);
    } else {
      out[i] = s;
    }
  }
  if (rows.empty()) return out;
  const int n = static_cast<int>(rows.size());
  std::unique_ptr<StagingBuffers> buf = staging_.Acquire();
  std::vector<JpegSlot> jpegs;
  std::map<int, absl::Status> failed;  // staging row -> why
  // A LibTorch failure fails every row of the batch with the same status.
  const std::string where = absl::StrCat("encode failed on model version ", info_.version);
  const absl::Status encoded = model::CatchTorchErrors(where, [&] {
    buf->Ensure(c, image_size_, n);
    EncodeStaging& s = buf->encode;
    for (int r = 0; r < n; ++r) StageObservation(*batch[rows[r]], r, c, image_size_, normalization(), &s, &jpegs);
    RowTexts text(instructions, *instruction_cache_);
    text.StageMisses(*tokenizer_, c.text.max_tokens, &s);

    torch::InferenceMode guard;
    model::AutocastGuard autocast(runtime_);
    const c10::Device dev = runtime_.device;
    model::MivlaModelImpl& m = model();
    auto first = [&](const at::Tensor& t) { return t.narrow(0, 0, n).to(dev); };
    model::ConditionTokens cond;
    at::Tensor images = first(s.images);
    if (!jpegs.empty()) DecodeJpegsOnDevice(*jpeg_decoder_, *resize_weights_, jpegs, image_size_, images, &failed);
    std::tie(cond.vision, cond.vision_mask) = m.EncodeVision(images, first(s.view_mask));
    cond.prefix = m.EncodePrefix(first(s.state), first(s.state_mask), first(s.embodiment));
    text.EncodeMisses(m, s, dev, *instruction_cache_);
    for (int r = 0; r < n; ++r) {
      if (auto f = failed.find(r); f != failed.end()) {
        out[rows[r]] = f->second;
        continue;
      }
      model::ConditionTokens one;
      one.vision = cond.vision.narrow(0, r, 1).clone();
      one.vision_mask = cond.vision_mask.narrow(0, r, 1).clone();
      one.prefix = cond.prefix.narrow(0, r, 1).clone();
      one.text = text.tokens[r].unsqueeze(0);
      one.text_mask = text.mask[r].unsqueeze(0);
      out[rows[r]] = std::make_shared<TorchCondition>(instance(), batch[rows[r]]->embodiment, std::move(one));
    }
  });
  if (!encoded.ok()) {
    for (int i : rows) out[i] = encoded;
  }
  staging_.Release(std::move(buf));
  return out;
}

}  // namespace mivla::server
