#include "core/model/layers.h"

#include <cmath>
#include <string>

#include <torch/nn/init.h>
#include <torch/torch.h>

namespace mivla::model {

RmsNormImpl::RmsNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight_ = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  torch::Tensor xf = x.to(torch::kFloat32);
  torch::Tensor y = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  return (y * weight_.to(torch::kFloat32)).to(x.scalar_type());
}

MlpImpl::MlpImpl(int64_t in, int64_t hidden, int64_t out, int layers) {
  for (int i = 0; i < layers; ++i) {
    int64_t a = i == 0 ? in : hidden;
    int64_t b = i == layers - 1 ? out : hidden;
    linears_.push_back(register_module("fc" + std::to_string(i), torch::nn::Linear(a, b)));
  }
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  for (size_t i = 0; i < linears_.size(); ++i) {
    if (i > 0) x = torch::silu(x);
    x = linears_[i]->forward(x);
  }
  return x;
}

SwiGluImpl::SwiGluImpl(int64_t dim, int64_t hidden) {
  w13_ = register_module("w13", torch::nn::Linear(torch::nn::LinearOptions(dim, 2 * hidden).bias(false)));
  w2_ = register_module("w2", torch::nn::Linear(torch::nn::LinearOptions(hidden, dim).bias(false)));
}

torch::Tensor SwiGluImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> h = w13_->forward(x).chunk(2, -1);
  return w2_->forward(torch::silu(h[0]) * h[1]);
}

TimestepEmbedderImpl::TimestepEmbedderImpl(int64_t frequency_dim, int64_t width, double time_scale)
    : frequency_dim_(frequency_dim), time_scale_(time_scale) {
  fc1_ = register_module("fc1", torch::nn::Linear(frequency_dim, width));
  fc2_ = register_module("fc2", torch::nn::Linear(width, width));
}

torch::Tensor TimestepEmbedderImpl::forward(const torch::Tensor& t) {
  const int64_t half = frequency_dim_ / 2;
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(t.device());
  torch::Tensor freqs = torch::exp(-std::log(10000.0) * torch::arange(half, opts) / static_cast<double>(half));
  torch::Tensor args = (t.to(torch::kFloat32) * time_scale_).unsqueeze(1) * freqs.unsqueeze(0);
  torch::Tensor emb = torch::cat({torch::cos(args), torch::sin(args)}, -1);
  return fc2_->forward(torch::silu(fc1_->forward(emb)));
}

torch::Tensor Modulate(const torch::Tensor& x, const torch::Tensor& shift, const torch::Tensor& scale) {
  return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1);
}

void XavierInitLinears(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* linear = child->as<torch::nn::Linear>()) {
      torch::nn::init::xavier_uniform_(linear->weight);
      if (linear->bias.defined()) linear->bias.zero_();
    }
  }
}

void ZeroLinear(torch::nn::Linear& linear) {
  torch::NoGradGuard no_grad;
  linear->weight.zero_();
  if (linear->bias.defined()) linear->bias.zero_();
}

}  // namespace mivla::model
