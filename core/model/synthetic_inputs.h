// File: synthetic_inputs.h
// Builders of synthetic model inputs for tests, benchmarks and the demo: a batch that mixes embodiments, with
// per-embodiment view counts, padded instructions and proprioception masks.
#ifndef MIVLA_CORE_MODEL_SYNTHETIC_INPUTS_H_
#define MIVLA_CORE_MODEL_SYNTHETIC_INPUTS_H_

#include <cstdint>
#include <vector>

#include "core/action/action_space.h"
#include "core/model/mivla_model.h"

namespace mivla::model {

/// Deterministic inputs for `embodiments.size()` samples: humans get one camera view, robots
/// `max_views`; sample i's instruction has 4 + i tokens; images of `image_size`² pixels.
ModelInputs SyntheticInputs(const ModelConfig& config, const std::vector<action::Embodiment>& embodiments,
                            uint64_t seed, int64_t image_size = 64);

/// [B, 76] 0/1 mask of each sample's embodiment slots.
torch::Tensor EmbodimentMasks(const std::vector<action::Embodiment>& embodiments);
/// [B, 76] 0/1 mask of each sample's mutual-imitation complement slots.
torch::Tensor ComplementMasks(const std::vector<action::Embodiment>& embodiments);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_SYNTHETIC_INPUTS_H_
