// File: encoder_test_util.h
// Test-only helpers: scalar reference arithmetic (explicit loops in double precision) used to check
// the LibTorch encoders independently of LibTorch's own layers.
#ifndef MIVLA_CORE_MODEL_ENCODER_TEST_UTIL_H_
#define MIVLA_CORE_MODEL_ENCODER_TEST_UTIL_H_

#include <cmath>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace mivla::model::testing {

using Vec = std::vector<double>;
using Seq = std::vector<Vec>;  // tokens × features

/// A parameter of `module` as a contiguous float64 CPU tensor.
inline torch::Tensor Param(const torch::nn::Module& module, const std::string& name) {
  return module.named_parameters()[name].detach().to(torch::kFloat64).contiguous();
}

/// y = W x (+ b), W [out, in].
inline Vec Affine(const torch::Tensor& w, const torch::Tensor& b, const Vec& x) {
  const int64_t out = w.size(0), in = w.size(1);
  const double* wp = w.data_ptr<double>();
  Vec y(out, 0.0);
  for (int64_t o = 0; o < out; ++o) {
    double s = b.defined() ? b.data_ptr<double>()[o] : 0.0;
    for (int64_t i = 0; i < in; ++i) s += wp[o * in + i] * x[i];
    y[o] = s;
  }
  return y;
}

inline Vec LayerNorm(const Vec& x, const torch::Tensor& g, const torch::Tensor& b, double eps) {
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= x.size();
  for (double v : x) var += (v - mean) * (v - mean);
  var /= x.size();
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    y[i] = (x[i] - mean) / std::sqrt(var + eps) * g.data_ptr<double>()[i] + b.data_ptr<double>()[i];
  }
  return y;
}

inline double GeluErf(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
inline double GeluTanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

/// Multi-head attention context (before the output projection): per head, softmax over keys of
/// scale · q·k + bias(h, t, u) (bias may be empty).
template <typename BiasFn>
Seq AttentionContext(const Seq& q, const Seq& k, const Seq& v, int heads, double scale, BiasFn bias) {
  const size_t t_len = q.size(), width = q[0].size(), d = width / heads;
  Seq ctx(t_len, Vec(width, 0.0));
  for (int h = 0; h < heads; ++h) {
    for (size_t t = 0; t < t_len; ++t) {
      Vec s(k.size());
      double mx = -1e300;
      for (size_t u = 0; u < k.size(); ++u) {
        double dot = 0;
        for (size_t j = 0; j < d; ++j) dot += q[t][h * d + j] * k[u][h * d + j];
        s[u] = scale * dot + bias(h, t, u);
        mx = std::max(mx, s[u]);
      }
      double z = 0;
      for (double& e : s) z += (e = std::exp(e - mx));
      for (size_t u = 0; u < k.size(); ++u) {
        for (size_t j = 0; j < d; ++j) ctx[t][h * d + j] += s[u] / z * v[u][h * d + j];
      }
    }
  }
  return ctx;
}

/// Max |a - b| between a [T, W] tensor and a Seq.
inline double MaxAbsDiff(const torch::Tensor& a, const Seq& b) {
  torch::Tensor x = a.to(torch::kFloat64).contiguous();
  double worst = 0;
  for (size_t t = 0; t < b.size(); ++t) {
    for (size_t i = 0; i < b[t].size(); ++i) {
      worst = std::max(worst, std::abs(x[t][i].item<double>() - b[t][i]));
    }
  }
  return worst;
}

}  // namespace mivla::model::testing

#endif  // MIVLA_CORE_MODEL_ENCODER_TEST_UTIL_H_
