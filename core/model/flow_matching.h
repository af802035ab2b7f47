// File: flow_matching.h
// Flow matching with one convention everywhere (DESIGN.md section 4): t = 0 is noise, t = 1 is data,
// x_t = t * a + (1 - t) * eps, target velocity v = a - eps, Euler integration from t = 0 in K steps.
//
// Mutual-imitation loss: each sample carries a label mask (its own embodiment's slots) and a complement
// mask (the other embodiment's slots made by retargeting); both are velocity-matching MSE terms over
// their slots, and each can be switched off (the paper's ablation).
#ifndef MIVLA_CORE_MODEL_FLOW_MATCHING_H_
#define MIVLA_CORE_MODEL_FLOW_MATCHING_H_

#include <cstdint>

#include "core/model/mivla_model.h"

namespace mivla::model {

struct FlowLossOptions {
  bool labelled_term = true;     // MSE on the sample's own slots
  bool complement_term = true;   // MSE on the retargeted slots of the other embodiment
  double complement_weight = 1.0;
  double max_time = 0.999;       // t ~ Uniform(0, max_time)
};

struct FlowLoss {
  torch::Tensor total;       // scalar, differentiable
  torch::Tensor labelled;    // scalar (detached)
  torch::Tensor complement;  // scalar (detached); 0 when no complement slots
};

/// actions [B, H, 76] (normalised), label_mask / complement_mask [B, 76] (0/1). `noise` [B, H, 76] and
/// `t` [B] may be given (tests, fixed evaluation sets); undefined tensors are drawn from the global RNG.
FlowLoss FlowMatchingLoss(MivlaModelImpl& model, const DecoderContext& ctx, const torch::Tensor& actions,
                          const torch::Tensor& label_mask, const torch::Tensor& complement_mask,
                          const FlowLossOptions& options, torch::Tensor noise = {}, torch::Tensor t = {});

/// Standard-normal noise [batch, horizon, dim] from a CPU generator seeded with `seed` (identical on every
/// device and every LibTorch version), moved to `device`.
torch::Tensor SampleNoise(int64_t batch, int64_t horizon, int64_t dim, uint64_t seed,
                          const torch::Device& device = torch::kCPU);

/// Euler integration of the model's velocity from x_0 = noise over `steps` equal steps; returns x_1.
/// Reuses `ctx` (the condition's keys/values) at every step.
torch::Tensor EulerSample(MivlaModelImpl& model, const DecoderContext& ctx, const torch::Tensor& noise,
                          int steps);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_FLOW_MATCHING_H_
