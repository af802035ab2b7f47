#include "trainer/train/test_batches.h"

#include <algorithm>

#include <torch/torch.h>

#include "core/model/synthetic_inputs.h"

namespace mivla::trainer::testing {

TrainBatch SyntheticBatch(const model::ModelConfig& config, const std::vector<action::Embodiment>& es,
                          uint64_t seed, int64_t image_size) {
  TrainBatch batch;
  batch.inputs = model::SyntheticInputs(config, es, seed, image_size);
  const int64_t b = static_cast<int64_t>(es.size()), h = config.decoder.action_horizon;
  batch.targets.label_mask = model::EmbodimentMasks(es);
  batch.targets.complement_mask = model::ComplementMasks(es);
  torch::Tensor steps = torch::linspace(0, 1, h).view({1, h, 1});
  torch::Tensor phase = torch::rand({b, 1, action::kActionDim}) * 6.28;
  torch::Tensor amp = torch::rand({b, 1, action::kActionDim}) * 0.8 + 0.1;
  torch::Tensor slots = (batch.targets.label_mask + batch.targets.complement_mask).clamp_max(1.0);
  batch.targets.actions = amp * torch::sin(phase + 3.0 * steps) * slots.unsqueeze(1);
  batch.targets.step_mask = torch::ones({b, h});
  batch.targets.embodiment = batch.inputs.embodiment.clone();
  batch.sources.assign(es.size(), "synthetic");
  return batch;
}

TrainBatch SliceBatch(const TrainBatch& in, int64_t begin, int64_t end) {
  auto s = [&](const torch::Tensor& t) { return t.slice(0, begin, end).clone(); };
  TrainBatch out;
  out.inputs = {s(in.inputs.images), s(in.inputs.view_mask), s(in.inputs.text_ids), s(in.inputs.text_mask),
                s(in.inputs.state), s(in.inputs.state_mask), s(in.inputs.embodiment)};
  out.targets.actions = s(in.targets.actions);
  out.targets.label_mask = s(in.targets.label_mask);
  out.targets.complement_mask = s(in.targets.complement_mask);
  out.targets.step_mask = s(in.targets.step_mask);
  out.targets.embodiment = s(in.targets.embodiment);
  out.sources.assign(in.sources.begin() + begin, in.sources.begin() + end);
  out.index = in.index;
  return out;
}

TrainBatch RepeatBatch(const TrainBatch& in, int64_t times) {
  auto r = [&](const torch::Tensor& t) {
    std::vector<int64_t> reps(t.dim(), 1);
    reps[0] = times;
    return t.repeat(reps);
  };
  TrainBatch out;
  out.inputs = {r(in.inputs.images), r(in.inputs.view_mask), r(in.inputs.text_ids), r(in.inputs.text_mask),
                r(in.inputs.state), r(in.inputs.state_mask), r(in.inputs.embodiment)};
  out.targets.actions = r(in.targets.actions);
  out.targets.label_mask = r(in.targets.label_mask);
  out.targets.complement_mask = r(in.targets.complement_mask);
  out.targets.step_mask = r(in.targets.step_mask);
  out.targets.embodiment = r(in.targets.embodiment);
  for (int64_t i = 0; i < times; ++i) out.sources.insert(out.sources.end(), in.sources.begin(), in.sources.end());
  return out;
}

absl::StatusOr<TrainBatch> FixedBatchSource::Next() {
  const TrainBatch& g = global_[next_ % global_.size()];
  const int64_t per_rank = g.targets.actions.size(0) / world_;
  TrainBatch out = SliceBatch(g, rank_ * per_rank, (rank_ + 1) * per_rank);
  out.index = next_++;
  return out;
}

double MaxAbsDifference(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  double worst = 0;
  for (const auto& item : pa) {
    worst = std::max(worst, (item.value().cpu() - pb[item.key()].cpu()).abs().max().item<double>());
  }
  auto ba = a.named_buffers(), bb = b.named_buffers();
  for (const auto& item : ba) {
    worst = std::max(worst, (item.value().cpu() - bb[item.key()].cpu()).abs().max().item<double>());
  }
  return worst;
}

}  // namespace mivla::trainer::testing
