// File: flow_matching.h
// Flow matching with one convention everywhere (docs/action-space.md): t = 0 is noise, t = 1 is data,
// x_t = t * a + (1 - t) * eps, target velocity v = a - eps, Euler integration from t = 0 in K steps.
//
// Mutual-imitation loss (docs/action-space.md, equations 4-7): four velocity-matching terms, each of
// which can be switched off (the paper's ablation):
//   robot           robot sample, its own slots (label_mask)
//   robot_to_human  robot sample, the human slots made by the robot -> human mapping (complement_mask)
//   human           human sample, its own slots (label_mask)
//   human_to_robot  human sample, the robot slots made by the human -> robot mapping + IK (complement_mask)
// Each term is the squared error averaged over ITS valid values (slot mask x step mask) per sample, then
// averaged over the samples that have that term, so a human sample's 48 values weigh as much as a PiPER
// sample's 14. L = robot + human + complement_weight * (robot_to_human + human_to_robot), enabled terms only.
//
// Thread-safety: pure functions of their arguments (the model is only read).
#ifndef MIVLA_CORE_MODEL_FLOW_MATCHING_H_
#define MIVLA_CORE_MODEL_FLOW_MATCHING_H_

#include <array>
#include <cstdint>
#include <functional>

#include "core/model/mivla_model.h"

namespace mivla::model {

struct FlowTargets {
  torch::Tensor actions;          // [B, H, 76] normalised
  torch::Tensor label_mask;       // [B, 76] float 0/1: the sample's own embodiment's slots
  torch::Tensor complement_mask;  // [B, 76] float 0/1: slots made by retargeting (IK failures excluded)
  torch::Tensor step_mask;        // [B, H] float 0/1 (0 = padded step past the episode end); undefined = all 1
  torch::Tensor embodiment;       // [B] int64 (action::Embodiment; 0 = human)
};

struct FlowLossOptions {
  bool robot_term = true;           // robot sample, its own slots
  bool robot_to_human_term = true;  // robot sample, human slots from robot -> human mapping (eq. 3)
  bool human_term = true;           // human sample, its own slots
  bool human_to_robot_term = true;  // human sample, robot slots from human -> robot mapping (eq. 2 + IK)
  double complement_weight = 1.0;
  double max_time = 0.999;          // t ~ Uniform(0, max_time)
};

/// `total` is a differentiable scalar; the four terms are detached scalars (unweighted; 0 when no sample
/// in the batch has the term). The *_samples counts say how many samples contributed to each term.
/// `weighted` holds the differentiable weighted terms in the order robot, robot_to_human, human,
/// human_to_robot (a zero scalar when disabled); total is their sum. Data-parallel training rescales
/// them by each term's global sample count (trainer.cc) so the ranks' mean gradient is the global mean.
struct FlowLoss {
  torch::Tensor total;
  std::array<torch::Tensor, 4> weighted;
  torch::Tensor robot, robot_to_human, human, human_to_robot;
  int64_t robot_samples = 0, robot_to_human_samples = 0, human_samples = 0, human_to_robot_samples = 0;
};

/// A velocity field v(x_t, t): x_t [B, H, 76], t [B] -> [B, H, 76].
using VelocityField = std::function<torch::Tensor(const torch::Tensor& x_t, const torch::Tensor& t)>;

/// The loss of `model` conditioned on `ctx`. `noise` [B, H, 76] and `t` [B] may be given (tests, fixed
/// evaluation sets); undefined tensors are drawn from the global RNG.
FlowLoss FlowMatchingLoss(MivlaModelImpl& model, const DecoderContext& ctx, const FlowTargets& targets,
                          const FlowLossOptions& options, torch::Tensor noise = {}, torch::Tensor t = {});

/// The same loss for any velocity field (FlowMatchingLoss above calls this with the model's velocity).
FlowLoss FlowMatchingLoss(const VelocityField& velocity, const FlowTargets& targets,
                          const FlowLossOptions& options, torch::Tensor noise = {}, torch::Tensor t = {});

/// Standard-normal noise [batch, horizon, dim] from a CPU generator seeded with `seed` (identical on every
/// device and every LibTorch version), moved to `device`.
torch::Tensor SampleNoise(int64_t batch, int64_t horizon, int64_t dim, uint64_t seed,
                          const torch::Device& device = torch::kCPU);

/// Euler integration of the model's velocity from x_0 = noise over `steps` equal steps; returns x_1.
/// Reuses `ctx` (the condition's keys/values) at every step.
torch::Tensor EulerSample(MivlaModelImpl& model, const DecoderContext& ctx, const torch::Tensor& noise,
                          int steps);
/// The same integrator for any velocity field: x_{k+1} = x_k + v(x_k, k / steps) / steps, k = 0..steps-1.
torch::Tensor EulerSample(const VelocityField& velocity, const torch::Tensor& noise, int steps);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_FLOW_MATCHING_H_
