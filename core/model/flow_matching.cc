#include "core/model/flow_matching.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace mivla::model {
namespace {

struct Term {
  torch::Tensor value;  // differentiable scalar: mean over contributing samples (0 when none)
  int64_t samples = 0;
};

// err2 [B, H, D]; slot_mask [B, D]; step_mask [B, H]; has [B] (0/1: the sample has this term).
// Per sample: sum of err2 over its valid (slot, step) values / their count; then the mean over samples
// with at least one valid value.
Term PerSampleTerm(const torch::Tensor& err2, const torch::Tensor& slot_mask, const torch::Tensor& step_mask,
                   const torch::Tensor& has) {
  torch::Tensor valid = slot_mask.unsqueeze(1) * step_mask.unsqueeze(2) * has.view({-1, 1, 1});  // [B, H, D]
  torch::Tensor count = valid.sum({1, 2});                                                        // [B]
  torch::Tensor per_sample = (err2 * valid).sum({1, 2}) / count.clamp_min(1.0);
  torch::Tensor present = (count > 0).to(err2.scalar_type());
  Term term;
  term.samples = present.sum().item<int64_t>();
  term.value = (per_sample * present).sum() / present.sum().clamp_min(1.0);
  return term;
}

}  // namespace

FlowLoss FlowMatchingLoss(const VelocityField& velocity, const FlowTargets& targets,
                          const FlowLossOptions& options, torch::Tensor noise, torch::Tensor t) {
  const torch::Tensor& actions = targets.actions;
  const int64_t b = actions.size(0);
  TORCH_CHECK(actions.dim() == 3, "FlowMatchingLoss: actions must be [B, H, D]");
  TORCH_CHECK(targets.label_mask.defined() && targets.complement_mask.defined() && targets.embodiment.defined(),
              "FlowMatchingLoss: label_mask, complement_mask and embodiment are required");
  if (!noise.defined()) noise = torch::randn_like(actions);
  if (!t.defined()) t = torch::rand({b}, actions.options()) * options.max_time;
  torch::Tensor tt = t.view({b, 1, 1}).to(actions.scalar_type());
  torch::Tensor x_t = tt * actions + (1 - tt) * noise;
  torch::Tensor target = actions - noise;
  torch::Tensor v = velocity(x_t, t);
  torch::Tensor err2 = (v.to(torch::kFloat32) - target.to(torch::kFloat32)).pow(2);

  const auto opts = err2.options();
  torch::Tensor label = targets.label_mask.to(opts);
  torch::Tensor complement = targets.complement_mask.to(opts);
  torch::Tensor steps = targets.step_mask.defined() ? targets.step_mask.to(opts)
                                                    : torch::ones({b, actions.size(1)}, opts);
  torch::Tensor human = (targets.embodiment.to(err2.device()) == 0).to(opts);
  torch::Tensor robot = 1 - human;

  FlowLoss out;
  out.total = torch::zeros({}, opts);
  int index = 0;
  auto add = [&](bool enabled, double weight, const torch::Tensor& slots, const torch::Tensor& has,
                 torch::Tensor* detached, int64_t* samples) {
    torch::Tensor& weighted = out.weighted[index++];
    if (!enabled) {
      *detached = torch::zeros({}, opts);
      weighted = torch::zeros({}, opts);
      return;
    }
    Term term = PerSampleTerm(err2, slots, steps, has);
    weighted = weight * term.value;
    out.total = out.total + weighted;
    *detached = term.value.detach();
    *samples = term.samples;
  };
  add(options.robot_term, 1.0, label, robot, &out.robot, &out.robot_samples);
  add(options.robot_to_human_term, options.complement_weight, complement, robot, &out.robot_to_human,
      &out.robot_to_human_samples);
  add(options.human_term, 1.0, label, human, &out.human, &out.human_samples);
  add(options.human_to_robot_term, options.complement_weight, complement, human, &out.human_to_robot,
      &out.human_to_robot_samples);
  return out;
}

FlowLoss FlowMatchingLoss(MivlaModelImpl& model, const DecoderContext& ctx, const FlowTargets& targets,
                          const FlowLossOptions& options, torch::Tensor noise, torch::Tensor t) {
  return FlowMatchingLoss([&](const torch::Tensor& x, const torch::Tensor& tv) { return model.Velocity(ctx, x, tv); },
                          targets, options, std::move(noise), std::move(t));
}

torch::Tensor SampleNoise(int64_t batch, int64_t horizon, int64_t dim, uint64_t seed,
                          const torch::Device& device) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  torch::Tensor n = at::randn({batch, horizon, dim}, gen, torch::TensorOptions().dtype(torch::kFloat32));
  return n.to(device);
}

torch::Tensor EulerSample(const VelocityField& velocity, const torch::Tensor& noise, int steps) {
  torch::Tensor x = noise;
  const double dt = 1.0 / steps;
  for (int k = 0; k < steps; ++k) {
    torch::Tensor t = torch::full({noise.size(0)}, k * dt, noise.options());
    x = x + dt * velocity(x, t);
  }
  return x;
}

torch::Tensor EulerSample(MivlaModelImpl& model, const DecoderContext& ctx, const torch::Tensor& noise,
                          int steps) {
  return EulerSample([&](const torch::Tensor& x, const torch::Tensor& t) { return model.Velocity(ctx, x, t); },
                     noise, steps);
}

}  // namespace mivla::model
