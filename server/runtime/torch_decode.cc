// TorchPolicyRuntime::Decode: cached condition tokens into staging rows, per-item seeded noise, the
// K-step Euler sampler once per batch, then de-normalised chunks.
//
// Real-time chunking: items that carry an executed prefix are sampled by the guided sampler
// (core/model/guided_sampling.h) with the prefix normalised by this version's statistics; the others
// keep the plain sampler. The batch is split in two sub-batches (plain rows first, under InferenceMode,
// then the guided rows with autograd) rather than guiding every row with zero weight: the plain rows
// then pay no backward passes (on a CPU the cost of a pass grows with its rows) and their chunks are
// exactly what they would be without guided batch-mates.
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/model/flow_matching.h"
#include "core/model/guided_sampling.h"
#include "core/model/torch_status.h"
#include "server/runtime/torch_condition.h"
#include "server/runtime/torch_policy_runtime.h"

namespace mivla::server {
namespace {

constexpr int kD = action::kActionDim;

// The items to sample, as staging rows: the plain ones first, then those with an executed prefix.
struct DecodeRows {
  std::vector<int> rows;                     // batch index of each staging row
  std::vector<const TorchCondition*> conds;  // its condition
  int n_plain = 0;
};

// The rows of `batch`; an item whose condition another runtime made, or whose prefix is malformed, gets
// INVALID_ARGUMENT in (*out)[i] instead.
DecodeRows SelectRows(absl::Span<const DecodeItem> batch, uint64_t instance, const std::string& version, int horizon,
                      std::vector<absl::StatusOr<ChunkValues>>* out) {
  DecodeRows r;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < batch.size(); ++i) {
      const DecodeItem& item = batch[i];
      const bool guided = !item.executed_prefix.empty();
      if (guided != (pass == 1)) continue;
      const auto* cond = dynamic_cast<const TorchCondition*>(item.condition.get());
      if (cond == nullptr || cond->runtime_instance() != instance) {
        (*out)[i] = absl::InvalidArgumentError(
            absl::StrCat("condition was not encoded by model version ", version, " (this runtime)"));
        continue;
      }
      const size_t prefix_rows = item.executed_prefix.size() / kD;
      if (guided && (item.executed_prefix.size() % kD != 0 || prefix_rows > static_cast<size_t>(horizon) ||
                     item.frozen_steps < 0 || static_cast<size_t>(item.frozen_steps) > prefix_rows)) {
        (*out)[i] = absl::InvalidArgumentError(
            absl::StrCat("executed_prefix: ", item.executed_prefix.size(), " values with ", item.frozen_steps,
                         " frozen steps; want whole steps of ", kD, ", at most ", horizon, ", frozen within them"));
        continue;
      }
      r.rows.push_back(static_cast<int>(i));
      r.conds.push_back(cond);
      if (!guided) ++r.n_plain;
    }
  }
  return r;
}

// Each row's condition tokens and its item's seeded noise into the staging tensors.
void StageRows(const DecodeRows& r, absl::Span<const DecodeItem> batch, int horizon, DecodeStaging* s) {
  for (size_t k = 0; k < r.rows.size(); ++k) {
    const int64_t row = static_cast<int64_t>(k);
    const model::ConditionTokens& cond = r.conds[k]->tokens();
    s->vision[row].copy_(cond.vision[0]);
    s->vision_mask[row].copy_(cond.vision_mask[0]);
    s->text[row].copy_(cond.text[0]);
    s->text_mask[row].copy_(cond.text_mask[0]);
    s->prefix[row].copy_(cond.prefix[0]);
    s->noise[row].copy_(model::SampleNoise(1, horizon, kD, batch[r.rows[k]].seed)[0]);
  }
}

// The guided rows' targets: each prefix normalised with `stats` (Y) and weighted by the soft step mask over
// its rows times its embodiment's slots (W), [g, horizon, kD] on `dev`.
model::InpaintingTarget GuidedTargets(const DecodeRows& r, absl::Span<const DecodeItem> batch, int horizon,
                                      const action::NormalizationStats& stats, const c10::Device& dev) {
  const int g = static_cast<int>(r.rows.size()) - r.n_plain;
  std::vector<float> y(static_cast<size_t>(g) * horizon * kD, 0.0f), w(y.size(), 0.0f);
  for (int k = 0; k < g; ++k) {
    const DecodeItem& item = batch[r.rows[r.n_plain + k]];
    const action::Embodiment e = r.conds[r.n_plain + k]->embodiment();
    const action::ActionMask mask = action::EmbodimentMask(e);
    const int prefix_rows = static_cast<int>(item.executed_prefix.size() / kD);
    const std::vector<float> step_w = model::PrefixStepWeights(horizon, item.frozen_steps, prefix_rows);
    for (int h = 0; h < prefix_rows; ++h) {
      const size_t at = (static_cast<size_t>(k) * horizon + h) * kD;
      for (int d = 0; d < kD; ++d) y[at + d] = mask.test(d) ? item.executed_prefix[h * kD + d] : 0.0f;
      stats.Normalize(e, y.data() + at, mask);
      for (int d = 0; d < kD; ++d) w[at + d] = mask.test(d) ? step_w[h] : 0.0f;
    }
  }
  const auto opts = torch::TensorOptions().dtype(torch::kFloat);
  return {torch::from_blob(y.data(), {g, horizon, kD}, opts).clone().to(dev),
          torch::from_blob(w.data(), {g, horizon, kD}, opts).clone().to(dev)};
}

// Row k of `sampled` ([n, horizon, kD] floats on the CPU), masked to its embodiment's slots and
// de-normalised with `stats`, into (*out)[rows[k]].
void WriteChunks(const at::Tensor& sampled, const DecodeRows& r, int horizon, const action::NormalizationStats& stats,
                 std::vector<absl::StatusOr<ChunkValues>>* out) {
  const float* data = sampled.data_ptr<float>();
  for (size_t k = 0; k < r.rows.size(); ++k) {
    const action::Embodiment e = r.conds[k]->embodiment();
    const action::ActionMask mask = action::EmbodimentMask(e);
    ChunkValues chunk;
    chunk.horizon = horizon;
    chunk.values.resize(static_cast<size_t>(horizon) * kD);
    for (int h = 0; h < horizon; ++h) {
      const float* src = data + (k * horizon + h) * kD;
      float* dst = chunk.values.data() + static_cast<size_t>(h) * kD;
      for (int d = 0; d < kD; ++d) dst[d] = mask.test(d) ? src[d] : 0.0f;
      stats.Denormalize(e, dst, mask);
    }
    (*out)[r.rows[k]] = std::move(chunk);
  }
}

}  // namespace

std::vector<absl::StatusOr<ChunkValues>> TorchPolicyRuntime::Decode(absl::Span<const DecodeItem> batch) const {
  const model::ModelConfig& c = config();
  const int horizon = c.decoder.action_horizon;
  std::vector<absl::StatusOr<ChunkValues>> out(batch.size(), absl::InternalError("not decoded"));
  const DecodeRows r = SelectRows(batch, instance(), info_.version, horizon, &out);
  if (r.rows.empty()) return out;
  const int n = static_cast<int>(r.rows.size());
  const int n_plain = r.n_plain;
  std::unique_ptr<StagingBuffers> buf = staging_.Acquire();
  // A LibTorch failure fails every row of the batch with the same status.
  const std::string where = absl::StrCat("decode failed on model version ", info_.version);
  const absl::Status decoded = model::CatchTorchErrors(where, [&] {
    buf->Ensure(c, image_size_, n);
    DecodeStaging& s = buf->decode;
    torch::InferenceMode guard;
    model::AutocastGuard autocast(runtime_);
    const c10::Device dev = runtime_.device;
    StageRows(r, batch, horizon, &s);
    model::MivlaModelImpl& m = model();
    std::vector<at::Tensor> parts;
    if (n_plain > 0) {
      auto part = [&](const at::Tensor& t) { return t.narrow(0, 0, n_plain).to(dev); };
      const model::ConditionTokens tokens{part(s.vision), part(s.vision_mask), part(s.text), part(s.text_mask),
                                          part(s.prefix)};
      parts.push_back((graphed_ != nullptr
                           ? graphed_->Sample(tokens, part(s.noise))
                           : model::EulerSample(m, m.PrepareDecoding(tokens), part(s.noise), c.decoder.sampling_steps))
                          .to(torch::kCPU, torch::kFloat));
    }
    if (n > n_plain) {
      c10::InferenceMode autograd_allowed(/*enabled=*/false);  // the guided sampler differentiates
      // Made here, not under InferenceMode: the loss saves the targets for its backward pass.
      const model::InpaintingTarget target = GuidedTargets(r, batch, horizon, normalization(), dev);
      auto normal = [&](const at::Tensor& t) { return t.narrow(0, n_plain, n - n_plain).clone().to(dev); };
      model::DecoderContext ctx;
      {
        torch::NoGradGuard no_grad;  // the context is saved for backward, so not made under InferenceMode
        ctx = m.PrepareDecoding(
            {normal(s.vision), normal(s.vision_mask), normal(s.text), normal(s.text_mask), normal(s.prefix)});
      }
      parts.push_back(model::GuidedEulerSample(m, ctx, normal(s.noise), c.decoder.sampling_steps, target, inpainting_)
                          .to(torch::kCPU, torch::kFloat));
    }
    WriteChunks((parts.size() == 1 ? parts[0] : torch::cat(parts, 0)).contiguous(), r, horizon, normalization(), &out);
  });
  if (!decoded.ok()) {
    for (int i : r.rows) out[i] = decoded;
  }
  staging_.Release(std::move(buf));
  return out;
}

}  // namespace mivla::server
