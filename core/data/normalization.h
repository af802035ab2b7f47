// File: normalization.h
// Normalisation statistics from training episodes (docs/action-space.md: per slice and per embodiment),
// including the mutual-imitation complement slots. Every frame's state counts for the row of the
// episode's embodiment, over its label mask and its complement mask: the complement slots of a human
// episode (robot joints / end effector) count for the human row, because the model sees them (normalised
// with that row) in human samples. Pure function; thread-safe.
#ifndef MIVLA_CORE_DATA_NORMALIZATION_H_
#define MIVLA_CORE_DATA_NORMALIZATION_H_

#include <vector>

#include "core/action/normalizer.h"
#include "core/data/unified_episode.h"

namespace mivla::data {

/// Adds every frame of `episode` to `builder` (label | complement slots, embodiment row).
void AddEpisodeToStats(const UnifiedEpisode& episode, action::NormalizationStatsBuilder* builder);

/// Statistics over all episodes, in the builder's default mode (min-max).
action::NormalizationStats ComputeNormalizationStats(const std::vector<UnifiedEpisode>& episodes);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_NORMALIZATION_H_
