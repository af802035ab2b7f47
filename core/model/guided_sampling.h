// File: guided_sampling.h
// Real-time chunking (Black, Galliker, Levine 2025, "Real-Time Execution of Action Chunking Flow
// Policies"): Euler sampling with inpainting guidance over a frozen prefix, so a new chunk starts with the
// actions a robot executes while the chunk is computed and joins its current plan smoothly.
//
// Flow convention as flow_matching.h (t = 0 noise, t = 1 data). At each Euler step, with x = x_t:
//   x1_hat = x + (1 - t) v(x, t)                              (the one-step estimate of the data)
//   g      = J^T [W * (Y - x1_hat)],  J = d x1_hat / d x       (a vector-Jacobian product, autograd)
//   x     += dt * (v + c(t) g),       c(t) = min(beta, (1 - t) / (t r_t^2)), r_t^2 = (1 - t)^2 / (t^2 + (1 - t)^2)
// Y is the target (the prefix, then the robot's remaining plan), W in [0, 1] per value (the soft mask
// times a slot mask: only a robot's own slots are guided). c(t) = (t^2 + (1 - t)^2) / (t (1 - t)) is
// unbounded at t = 0 and t = 1; there it is beta. Values with W = 0 get g = 0 from their own term; they
// still move through the model's coupling of values (a slot of another embodiment that W leaves out).
//
// The soft mask over the horizon H (PrefixStepWeights): 1 for the d frozen steps (i < d), then the
// paper's exponential decay c_i (e^{c_i} - 1) / (e - 1) with c_i = (E - i) / (E - d + 1) for
// d <= i < E, and 0 from E on (E = H - s: where the previous chunk's plan ends, s the execution horizon).
//
// Optional soft-masked replacement after each step (InpaintingOptions::soft_replacement, below).
//
// Cost: one forward plus one backward pass of the velocity field per Euler step (the plain sampler does
// the forward only). The model's parameters are only read; gradients go to x alone.
// Thread-safety: pure functions; must not run under torch::InferenceMode (autograd is needed), and the
// DecoderContext must have been prepared outside InferenceMode (its tensors are saved for backward).
#ifndef MIVLA_CORE_MODEL_GUIDED_SAMPLING_H_
#define MIVLA_CORE_MODEL_GUIDED_SAMPLING_H_

#include <vector>

#include "core/model/flow_matching.h"

namespace mivla::model {

struct InpaintingOptions {
  double max_guidance = 5.0;  // beta: the cap of the guidance weight c(t) (the paper uses 5)
  // After each Euler step, also x <- x + W (x_t* - x), with x_t* = t Y + (1 - t) x_0 the target's point on
  // the noise-to-data path of the same noise (soft-masked replacement, the classic inpainting step). The
  // guidance alone moves x only through J = d x1_hat / d x, which is near 0 for a policy that is nearly
  // deterministic given its observation (x1_hat barely depends on the noise): there it leaves the frozen
  // steps off target. With the replacement the frozen steps (W = 1) end exactly on Y and the overlap ends
  // as W Y + (1 - W) times the model's own continuation, while the guidance still steers the
  // free steps wherever the model lets it.
  bool soft_replacement = true;
};

/// Y and W, both [B, H, D] (W broadcastable to it). Rows whose W is all 0 are sampled as EulerSample would.
struct InpaintingTarget {
  torch::Tensor target;  // Y, in the sampler's (normalised) units
  torch::Tensor weight;  // W per value, in [0, 1]
};

/// The soft mask per step: `horizon` values (see above). frozen_steps and overlap_end are clamped to
/// [0, horizon] and overlap_end to >= frozen_steps.
std::vector<float> PrefixStepWeights(int horizon, int frozen_steps, int overlap_end);

/// c(t) = min(beta, (1 - t) / (t r_t^2)); beta for t <= 0 or t >= 1 (and for a non-finite value).
double GuidanceWeight(double t, double max_guidance);

/// Euler integration from x_0 = noise in `steps` equal steps with the guidance above; returns x_1 (no
/// autograd history).
torch::Tensor GuidedEulerSample(const VelocityField& velocity, const torch::Tensor& noise, int steps,
                                const InpaintingTarget& target, const InpaintingOptions& options = {});
/// The same with the model's velocity (reuses `ctx` at every step).
torch::Tensor GuidedEulerSample(MivlaModelImpl& model, const DecoderContext& ctx, const torch::Tensor& noise,
                                int steps, const InpaintingTarget& target, const InpaintingOptions& options = {});

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_GUIDED_SAMPLING_H_
