// TorchPolicyRuntime::Decode: cached condition tokens into staging rows, per-item seeded noise, the
// K-step Euler sampler once per batch, then de-normalised chunks.
//
// Real-time chunking: items that carry an executed prefix are sampled by the guided sampler
// (core/model/guided_sampling.h) with the prefix normalised by this version's statistics; the others
// keep the plain sampler. The batch is split in two sub-batches (plain rows first, under InferenceMode,
// then the guided rows with autograd) rather than guiding every row with zero weight: the plain rows
// then pay no backward passes (on a CPU the cost of a pass grows with its rows) and their chunks are
// exactly what they would be without guided batch-mates.
#include <algorithm>
#include <array>
#include <utility>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/model/flow_matching.h"
#include "core/model/guided_sampling.h"
#include "core/model/torch_status.h"
#include "server/runtime/torch_condition.h"
#include "server/runtime/torch_policy_runtime.h"

namespace mivla::server {

std::vector<absl::StatusOr<ChunkValues>> TorchPolicyRuntime::Decode(absl::Span<const DecodeItem> batch) const {
  const model::ModelConfig& c = config();
  const int horizon = c.decoder.action_horizon;
  std::vector<absl::StatusOr<ChunkValues>> out(batch.size(), absl::InternalError("not decoded"));
  std::vector<int> rows;  // batch index of each staging row: the plain items, then the guided ones
  std::vector<const TorchCondition*> conds;
  int n_plain = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < batch.size(); ++i) {
      const bool guided = !batch[i].executed_prefix.empty();
      if (guided != (pass == 1)) continue;
      const auto* cond = dynamic_cast<const TorchCondition*>(batch[i].condition.get());
      if (cond == nullptr || cond->runtime_instance() != instance()) {
        out[i] = absl::InvalidArgumentError(
            absl::StrCat("condition was not encoded by model version ", info_.version, " (this runtime)"));
        continue;
      }
      const size_t prefix_rows = batch[i].executed_prefix.size() / action::kActionDim;
      if (guided && (batch[i].executed_prefix.size() % action::kActionDim != 0 ||
                     prefix_rows > static_cast<size_t>(horizon) || batch[i].frozen_steps < 0 ||
                     static_cast<size_t>(batch[i].frozen_steps) > prefix_rows)) {
        out[i] = absl::InvalidArgumentError(absl::StrCat(
            "executed_prefix: ", batch[i].executed_prefix.size(), " values with ", batch[i].frozen_steps,
            " frozen steps; want whole steps of ", action::kActionDim, ", at most ", horizon, ", frozen within them"));
        continue;
      }
      rows.push_back(static_cast<int>(i));
      conds.push_back(cond);
      if (!guided) ++n_plain;
    }
  }
  if (rows.empty()) return out;
  const int n = static_cast<int>(rows.size());
  std::unique_ptr<StagingBuffers> buf = staging_.Acquire();
  // A LibTorch failure fails every row of the batch with the same status.
  const std::string where = absl::StrCat("decode failed on model version ", info_.version);
  const absl::Status decoded = model::CatchTorchErrors(where, [&] {
    buf->Ensure(c, image_size_, n);
    DecodeStaging& s = buf->decode;
    torch::InferenceMode guard;
    model::AutocastGuard autocast(runtime_);
    const c10::Device dev = runtime_.device;
    for (int r = 0; r < n; ++r) {
      const model::ConditionTokens& cond = conds[r]->tokens();
      s.vision[r].copy_(cond.vision[0]);
      s.vision_mask[r].copy_(cond.vision_mask[0]);
      s.text[r].copy_(cond.text[0]);
      s.text_mask[r].copy_(cond.text_mask[0]);
      s.prefix[r].copy_(cond.prefix[0]);
      s.noise[r].copy_(model::SampleNoise(1, horizon, action::kActionDim, batch[rows[r]].seed)[0]);
    }
    auto part = [&](const at::Tensor& t, int begin, int count) { return t.narrow(0, begin, count).to(dev); };
    auto tokens = [&](int begin, int count) {
      return model::ConditionTokens{part(s.vision, begin, count), part(s.vision_mask, begin, count),
                                    part(s.text, begin, count), part(s.text_mask, begin, count),
                                    part(s.prefix, begin, count)};
    };
    model::MivlaModelImpl& m = model();
    std::vector<at::Tensor> parts;
    if (n_plain > 0) {
      parts.push_back((graphed_ != nullptr ? graphed_->Sample(tokens(0, n_plain), part(s.noise, 0, n_plain))
                                           : model::EulerSample(m, m.PrepareDecoding(tokens(0, n_plain)),
                                                                part(s.noise, 0, n_plain), c.decoder.sampling_steps))
                          .to(torch::kCPU, torch::kFloat));
    }
    if (n > n_plain) {
      // Targets Y (normalised with this version's statistics) and weights W: the soft step mask over the
      // item's prefix rows times its embodiment's slots.
      const int g = n - n_plain;
      constexpr int kD = action::kActionDim;
      std::vector<float> y(static_cast<size_t>(g) * horizon * kD, 0.0f), w(y.size(), 0.0f);
      for (int r = 0; r < g; ++r) {
        const DecodeItem& item = batch[rows[n_plain + r]];
        const action::Embodiment e = conds[n_plain + r]->embodiment();
        const action::ActionMask mask = action::EmbodimentMask(e);
        const int prefix_rows = static_cast<int>(item.executed_prefix.size() / kD);
        const std::vector<float> step_w = model::PrefixStepWeights(horizon, item.frozen_steps, prefix_rows);
        for (int h = 0; h < prefix_rows; ++h) {
          const size_t at = (static_cast<size_t>(r) * horizon + h) * kD;
          for (int d = 0; d < kD; ++d) y[at + d] = mask.test(d) ? item.executed_prefix[h * kD + d] : 0.0f;
          normalization().Normalize(e, y.data() + at, mask);
          for (int d = 0; d < kD; ++d) w[at + d] = mask.test(d) ? step_w[h] : 0.0f;
        }
      }
      c10::InferenceMode autograd_allowed(/*enabled=*/false);  // the guided sampler differentiates
      auto normal = [&](const at::Tensor& t) { return t.narrow(0, n_plain, g).clone().to(dev); };
      model::DecoderContext ctx;
      {
        torch::NoGradGuard no_grad;  // the context is saved for backward, so not made under InferenceMode
        ctx = m.PrepareDecoding({normal(s.vision), normal(s.vision_mask), normal(s.text), normal(s.text_mask),
                                 normal(s.prefix)});
      }
      const auto opts = torch::TensorOptions().dtype(torch::kFloat);
      model::InpaintingTarget target{torch::from_blob(y.data(), {g, horizon, kD}, opts).clone().to(dev),
                                     torch::from_blob(w.data(), {g, horizon, kD}, opts).clone().to(dev)};
      parts.push_back(model::GuidedEulerSample(m, ctx, normal(s.noise), c.decoder.sampling_steps, target, inpainting_)
                          .to(torch::kCPU, torch::kFloat));
    }
    at::Tensor sampled = (parts.size() == 1 ? parts[0] : torch::cat(parts, 0)).contiguous();
    const float* data = sampled.data_ptr<float>();
    for (int r = 0; r < n; ++r) {
      const action::Embodiment e = conds[r]->embodiment();
      const action::ActionMask mask = action::EmbodimentMask(e);
      ChunkValues chunk;
      chunk.horizon = horizon;
      chunk.values.resize(static_cast<size_t>(horizon) * action::kActionDim);
      for (int h = 0; h < horizon; ++h) {
        const float* src = data + (static_cast<size_t>(r) * horizon + h) * action::kActionDim;
        float* dst = chunk.values.data() + static_cast<size_t>(h) * action::kActionDim;
        for (int d = 0; d < action::kActionDim; ++d) dst[d] = mask.test(d) ? src[d] : 0.0f;
        normalization().Denormalize(e, dst, mask);
      }
      out[rows[r]] = std::move(chunk);
    }
  });
  if (!decoded.ok()) {
    for (int i : rows) out[i] = decoded;
  }
  staging_.Release(std::move(buf));
  return out;
}

}  // namespace mivla::server
