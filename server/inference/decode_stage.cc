#include "server/inference/decode_stage.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/model/flow_matching.h"
#include "server/inference/chunk_builder.h"

namespace mivla::server {

absl::Status DecodeBatch(const LoadedModel& lm, const std::vector<DecodeTask*>& tasks, DecodeStaging* s,
                         std::vector<absl::Status>* per_task) {
  const int n = static_cast<int>(tasks.size());
  per_task->assign(n, absl::OkStatus());
  const model::ModelConfig& c = lm.config();
  const int horizon = c.decoder.action_horizon;
  try {
    torch::InferenceMode guard;
    model::AutocastGuard autocast(lm.runtime());
    const c10::Device dev = lm.runtime().device;
    for (int i = 0; i < n; ++i) {
      const model::ConditionTokens& cond = tasks[i]->observation->cond;
      s->vision[i].copy_(cond.vision[0]);
      s->vision_mask[i].copy_(cond.vision_mask[0]);
      s->text[i].copy_(cond.text[0]);
      s->text_mask[i].copy_(cond.text_mask[0]);
      s->prefix[i].copy_(cond.prefix[0]);
      s->noise[i].copy_(model::SampleNoise(1, horizon, action::kActionDim, tasks[i]->seed)[0]);
    }
    auto rows = [&](const at::Tensor& t) { return t.narrow(0, 0, n).to(dev); };
    model::ConditionTokens batch{rows(s->vision), rows(s->vision_mask), rows(s->text), rows(s->text_mask),
                                 rows(s->prefix)};
    model::MivlaModelImpl& m = lm.model();
    at::Tensor out = model::EulerSample(m, m.PrepareDecoding(batch), rows(s->noise), c.decoder.sampling_steps)
                         .to(torch::kCPU, torch::kFloat)
                         .contiguous();
    const float* data = out.data_ptr<float>();
    for (int i = 0; i < n; ++i) {
      const DecodeTask& t = *tasks[i];
      ChunkMeta meta;
      meta.embodiment = t.session->spec().embodiment;
      meta.observation_time_us = t.observation->timestamp_us;
      meta.control_period_s = t.session->spec().control_period_s;
      meta.model_period_s = 1.0 / c.control_rate_hz;
      meta.observation_id = t.observation->id;
      t.response->Clear();
      BuildActionChunk(data + static_cast<size_t>(i) * horizon * action::kActionDim, horizon, lm.normalization(),
                       meta, t.response->mutable_chunk());
      t.response->set_model_version(lm.version());
      if (!ChunkIsFinite(t.response->chunk())) {
        (*per_task)[i] = absl::InternalError(absl::StrCat("the model produced a non-finite action for session ",
                                                          t.session->id(), " on model version ", lm.version(),
                                                          "; no chunk is sent"));
        t.response->Clear();
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("decode failed on model version ", lm.version(), ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace mivla::server
