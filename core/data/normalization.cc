#include "core/data/normalization.h"

#include <array>

namespace mivla::data {

void AddEpisodeToStats(const UnifiedEpisode& episode, action::NormalizationStatsBuilder* builder) {
  const bool has_complements = episode.complement_masks.size() == episode.states.size();
  std::array<float, action::kActionDim> values;
  for (int t = 0; t < episode.num_frames(); ++t) {
    action::ActionMask mask = episode.masks[t];
    if (has_complements) mask |= episode.complement_masks[t];
    for (int d = 0; d < action::kActionDim; ++d) values[d] = static_cast<float>(episode.states[t][d]);
    builder->Add(episode.embodiment, values.data(), mask);
  }
}

action::NormalizationStats ComputeNormalizationStats(const std::vector<UnifiedEpisode>& episodes) {
  action::NormalizationStatsBuilder builder;
  for (const UnifiedEpisode& e : episodes) AddEpisodeToStats(e, &builder);
  return builder.Build();
}

}  // namespace mivla::data
