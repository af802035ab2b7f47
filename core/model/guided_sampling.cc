#include "core/model/guided_sampling.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

namespace mivla::model {

std::vector<float> PrefixStepWeights(int horizon, int frozen_steps, int overlap_end) {
  horizon = std::max(horizon, 0);
  const int d = std::clamp(frozen_steps, 0, horizon);
  const int end = std::clamp(overlap_end, d, horizon);
  std::vector<float> w(horizon, 0.0f);
  const double e = std::exp(1.0);
  for (int i = 0; i < horizon; ++i) {
    if (i < d) {
      w[i] = 1.0f;
    } else if (i < end) {
      const double c = static_cast<double>(end - i) / static_cast<double>(end - d + 1);
      w[i] = static_cast<float>(c * (std::exp(c) - 1.0) / (e - 1.0));
    }
  }
  return w;
}

double GuidanceWeight(double t, double max_guidance) {
  if (!(t > 0.0 && t < 1.0)) return max_guidance;
  // (1 - t) / (t r^2) with r^2 = (1 - t)^2 / (t^2 + (1 - t)^2).
  const double c = (t * t + (1.0 - t) * (1.0 - t)) / (t * (1.0 - t));
  return std::isfinite(c) ? std::min(max_guidance, c) : max_guidance;
}

torch::Tensor GuidedEulerSample(const VelocityField& velocity, const torch::Tensor& noise, int steps,
                                const InpaintingTarget& target, const InpaintingOptions& options) {
  TORCH_CHECK(steps >= 1, "GuidedEulerSample: steps must be >= 1");
  TORCH_CHECK(target.target.defined() && target.weight.defined(), "GuidedEulerSample: target and weight are required");
  torch::AutoGradMode grad_mode(true);
  const torch::Tensor y = target.target.detach().to(noise.device(), torch::kFloat32);
  const torch::Tensor w = target.weight.detach().to(noise.device(), torch::kFloat32);
  const torch::Tensor x0 = noise.detach().to(torch::kFloat32);
  torch::Tensor x = x0;
  const double dt = 1.0 / steps;
  for (int k = 0; k < steps; ++k) {
    const double t = k * dt;
    torch::Tensor tt = torch::full({noise.size(0)}, t, x.options());
    torch::Tensor xin = x.detach().requires_grad_(true);
    torch::Tensor v = velocity(xin, tt).to(torch::kFloat32);
    torch::Tensor x1 = xin + (1.0 - t) * v;
    torch::Tensor err = ((y - x1.detach()) * w).contiguous();
    torch::Tensor g = torch::autograd::grad({x1}, {xin}, {err}, /*retain_graph=*/false)[0];
    x = (xin.detach() + dt * (v.detach() + GuidanceWeight(t, options.max_guidance) * g)).detach();
    if (options.soft_replacement) {
      // Pull the guided values towards the target on the same noise-to-data path: x <- x + W (x_t* - x).
      const double t1 = (k + 1) * dt;
      x = x + w * ((t1 * y + (1.0 - t1) * x0) - x);
    }
  }
  return x;
}

torch::Tensor GuidedEulerSample(MivlaModelImpl& model, const DecoderContext& ctx, const torch::Tensor& noise,
                                int steps, const InpaintingTarget& target, const InpaintingOptions& options) {
  return GuidedEulerSample([&](const torch::Tensor& x, const torch::Tensor& t) { return model.Velocity(ctx, x, t); },
                           noise, steps, target, options);
}

}  // namespace mivla::model
