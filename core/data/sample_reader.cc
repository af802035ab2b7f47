#include "core/data/sample_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace mivla::data {

absl::StatusOr<Sample> MakeSample(const UnifiedEpisode& episode, int t, const SampleOptions& options) {
  const int n = episode.num_frames();
  if (t < 0 || t >= n) {
    return absl::InvalidArgumentError(absl::StrCat(episode.source, ": frame ", t, " outside [0, ", n, ")"));
  }
  if (options.horizon < 1) return absl::InvalidArgumentError(absl::StrCat("horizon ", options.horizon, " < 1"));
  if (options.action_offset < 0) return absl::InvalidArgumentError("action_offset < 0");
  if (static_cast<int>(episode.masks.size()) != n) {
    return absl::InvalidArgumentError(absl::StrCat(episode.source, ": ", episode.masks.size(), " masks for ", n, " frames"));
  }
  const bool has_complements = !episode.complement_masks.empty();
  if (has_complements && static_cast<int>(episode.complement_masks.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(episode.source, ": ", episode.complement_masks.size(), " complement masks for ", n, " frames"));
  }
  auto complement_at = [&](int f) { return has_complements ? episode.complement_masks[f] : action::ActionMask{}; };
  Sample s;
  s.embodiment = episode.embodiment;
  s.frame = t;
  s.instruction = episode.instruction;
  s.instructions = episode.instructions;
  s.proprio_mask = episode.masks[t];
  // Proprioception is the episode's own slots only; complement values never leak into the state.
  for (int d = 0; d < action::kActionDim; ++d) s.proprio[d] = s.proprio_mask.test(d) ? episode.states[t][d] : 0.0;
  if (options.with_images) {
    for (const CameraStream& cam : episode.cameras) {
      if (t < static_cast<int>(cam.frames.size())) s.images.emplace_back(cam.name, cam.frames[t]);
    }
  }
  s.label_mask.set();
  s.complement_mask.set();
  bool any_valid = false;
  for (int k = 0; k < options.horizon; ++k) {
    const int src = t + options.action_offset + k;
    const bool valid = src < n;
    const int frame = std::min(src, n - 1);
    s.actions.push_back(episode.states[frame]);
    s.step_masks.push_back(episode.masks[frame] | complement_at(frame));
    s.step_valid.push_back(valid);
    if (valid) {
      s.label_mask &= episode.masks[frame];
      s.complement_mask &= complement_at(frame);
      any_valid = true;
    }
  }
  if (!any_valid) {
    s.label_mask = episode.masks[n - 1];
    s.complement_mask = complement_at(n - 1);
  }
  s.complement_mask &= ~s.label_mask;
  s.action_mask = s.label_mask | s.complement_mask;
  return s;
}

absl::StatusOr<std::vector<Sample>> MakeSamples(const UnifiedEpisode& episode, const SampleOptions& options) {
  std::vector<Sample> out;
  out.reserve(episode.num_frames());
  for (int t = 0; t < episode.num_frames(); ++t) {
    auto s = MakeSample(episode, t, options);
    if (!s.ok()) return s.status();
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace mivla::data
