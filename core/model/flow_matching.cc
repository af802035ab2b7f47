#include "core/model/flow_matching.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace mivla::model {
namespace {

torch::Tensor MaskedMse(const torch::Tensor& err2, const torch::Tensor& mask) {
  // err2 [B, H, D], mask [B, D]: mean over the masked slots of every step.
  torch::Tensor m = mask.to(err2.scalar_type()).unsqueeze(1).expand_as(err2);
  return (err2 * m).sum() / m.sum().clamp_min(1.0);
}

}  // namespace

FlowLoss FlowMatchingLoss(MivlaModelImpl& model, const DecoderContext& ctx, const torch::Tensor& actions,
                          const torch::Tensor& label_mask, const torch::Tensor& complement_mask,
                          const FlowLossOptions& options, torch::Tensor noise, torch::Tensor t) {
  const int64_t b = actions.size(0);
  if (!noise.defined()) noise = torch::randn_like(actions);
  if (!t.defined()) t = torch::rand({b}, actions.options()) * options.max_time;
  torch::Tensor tt = t.view({b, 1, 1}).to(actions.scalar_type());
  torch::Tensor x_t = tt * actions + (1 - tt) * noise;
  torch::Tensor target = actions - noise;
  torch::Tensor v = model.Velocity(ctx, x_t, t);
  torch::Tensor err2 = (v.to(torch::kFloat32) - target.to(torch::kFloat32)).pow(2);
  FlowLoss out;
  torch::Tensor labelled = MaskedMse(err2, label_mask);
  torch::Tensor complement = MaskedMse(err2, complement_mask);
  out.total = torch::zeros({}, err2.options());
  if (options.labelled_term) out.total = out.total + labelled;
  if (options.complement_term) out.total = out.total + options.complement_weight * complement;
  out.labelled = labelled.detach();
  out.complement = complement.detach();
  return out;
}

torch::Tensor SampleNoise(int64_t batch, int64_t horizon, int64_t dim, uint64_t seed,
                          const torch::Device& device) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  torch::Tensor n = at::randn({batch, horizon, dim}, gen, torch::TensorOptions().dtype(torch::kFloat32));
  return n.to(device);
}

torch::Tensor EulerSample(MivlaModelImpl& model, const DecoderContext& ctx, const torch::Tensor& noise,
                          int steps) {
  torch::Tensor x = noise;
  const double dt = 1.0 / steps;
  torch::Tensor t = torch::zeros({noise.size(0)}, noise.options());
  for (int k = 0; k < steps; ++k) {
    x = x + dt * model.Velocity(ctx, x, t);
    t = t + dt;
  }
  return x;
}

}  // namespace mivla::model
