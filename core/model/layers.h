// File: layers.h
// Small building blocks of the action decoder: RMSNorm, an N-layer SiLU MLP (H-RDT's mlpNx_silu), a
// SwiGLU feed-forward, the sinusoidal timestep embedder, and adaLN's modulate(). Modules follow the
// LibTorch holder pattern (FooImpl + TORCH_MODULE(Foo)). Not thread-safe for training; forward passes
// under torch::NoGradGuard/InferenceMode may run concurrently on one module.
#ifndef MIVLA_CORE_MODEL_LAYERS_H_
#define MIVLA_CORE_MODEL_LAYERS_H_

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace mivla::model {

/// y = x / rms(x) * weight, variance computed in fp32, no mean, no bias.
class RmsNormImpl : public torch::nn::Module {
 public:
  RmsNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  double eps_;
  torch::Tensor weight_;
};
TORCH_MODULE(RmsNorm);

/// Linear, then (SiLU, Linear) x (layers - 1).
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t in, int64_t hidden, int64_t out, int layers);
  torch::Tensor forward(torch::Tensor x);
  /// The last Linear (zero-initialised by callers that want an identity-at-start residual).
  torch::nn::Linear last() const { return linears_.back(); }

 private:
  std::vector<torch::nn::Linear> linears_;
};
TORCH_MODULE(Mlp);

/// w2(silu(w1 x) * w3 x), no biases; w1 and w3 are one fused [2 * hidden, dim] projection (`w13`).
class SwiGluImpl : public torch::nn::Module {
 public:
  SwiGluImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Linear w13_{nullptr}, w2_{nullptr};
};
TORCH_MODULE(SwiGlu);

/// DiT's TimestepEmbedder: [cos, sin] features of (t * time_scale) at `frequency_dim / 2` frequencies
/// up to max_period 1e4, then Linear-SiLU-Linear. t is the flow time in [0, 1]; time_scale 1000 spreads
/// it over the frequencies the way integer diffusion timesteps would.
class TimestepEmbedderImpl : public torch::nn::Module {
 public:
  TimestepEmbedderImpl(int64_t frequency_dim, int64_t width, double time_scale = 1000.0);
  torch::Tensor forward(const torch::Tensor& t);  // [B] -> [B, width]

 private:
  int64_t frequency_dim_;
  double time_scale_;
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(TimestepEmbedder);

/// x * (1 + scale) + shift with shift/scale of shape [B, W] broadcast over the sequence of x [B, L, W].
torch::Tensor Modulate(const torch::Tensor& x, const torch::Tensor& shift, const torch::Tensor& scale);

/// Xavier-uniform weights and zero biases for every Linear under `module` (H-RDT's initialisation).
void XavierInitLinears(torch::nn::Module& module);
void ZeroLinear(torch::nn::Linear& linear);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_LAYERS_H_
