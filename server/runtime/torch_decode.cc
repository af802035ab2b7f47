// TorchPolicyRuntime::Decode: cached condition tokens into staging rows, per-item seeded noise, the
// K-step Euler sampler once per batch, then de-normalised chunks.
#include <array>
#include <utility>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/model/flow_matching.h"
#include "server/runtime/torch_condition.h"
#include "server/runtime/torch_policy_runtime.h"

namespace mivla::server {

std::vector<absl::StatusOr<ChunkValues>> TorchPolicyRuntime::Decode(absl::Span<const DecodeItem> batch) const {
  const model::ModelConfig& c = config();
  const int horizon = c.decoder.action_horizon;
  std::vector<absl::StatusOr<ChunkValues>> out(batch.size(), absl::InternalError("not decoded"));
  std::vector<int> rows;  // batch index of each staging row
  std::vector<const TorchCondition*> conds;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto* cond = dynamic_cast<const TorchCondition*>(batch[i].condition.get());
    if (cond == nullptr || cond->runtime_instance() != instance()) {
      out[i] = absl::InvalidArgumentError(
          absl::StrCat("condition was not encoded by model version ", info_.version, " (this runtime)"));
      continue;
    }
    rows.push_back(static_cast<int>(i));
    conds.push_back(cond);
  }
  if (rows.empty()) return out;
  const int n = static_cast<int>(rows.size());
  std::unique_ptr<StagingBuffers> buf = staging_.Acquire();
  try {
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
    auto first = [&](const at::Tensor& t) { return t.narrow(0, 0, n).to(dev); };
    model::ConditionTokens tokens{first(s.vision), first(s.vision_mask), first(s.text), first(s.text_mask),
                                  first(s.prefix)};
    model::MivlaModelImpl& m = model();
    at::Tensor sampled = model::EulerSample(m, m.PrepareDecoding(tokens), first(s.noise), c.decoder.sampling_steps)
                             .to(torch::kCPU, torch::kFloat)
                             .contiguous();
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
  } catch (const std::exception& e) {
    const absl::Status failed =
        absl::InternalError(absl::StrCat("decode failed on model version ", info_.version, ": ", e.what()));
    for (int i : rows) out[i] = failed;
  }
  staging_.Release(std::move(buf));
  return out;
}

}  // namespace mivla::server
