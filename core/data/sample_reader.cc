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
  Sample s;
  s.embodiment = episode.embodiment;
  s.frame = t;
  s.instruction = episode.instruction;
  s.proprio = episode.states[t];
  s.proprio_mask = episode.masks[t];
  if (options.with_images) {
    for (const CameraStream& cam : episode.cameras) {
      if (t < static_cast<int>(cam.frames.size())) s.images.emplace_back(cam.name, cam.frames[t]);
    }
  }
  s.action_mask.set();
  bool any_valid = false;
  for (int k = 0; k < options.horizon; ++k) {
    const int src = t + options.action_offset + k;
    const bool valid = src < n;
    const int frame = std::min(src, n - 1);
    s.actions.push_back(episode.states[frame]);
    s.step_masks.push_back(episode.masks[frame]);
    s.step_valid.push_back(valid);
    if (valid) {
      s.action_mask &= episode.masks[frame];
      any_valid = true;
    }
  }
  if (!any_valid) s.action_mask = episode.masks[n - 1];
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
