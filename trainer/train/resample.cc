#include "trainer/train/resample.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mivla::trainer {
namespace {

template <typename T>
std::vector<T> Pick(const std::vector<T>& v, const std::vector<int>& idx) {
  std::vector<T> out;
  out.reserve(idx.size());
  for (int i : idx) out.push_back(v[i]);
  return out;
}

template <typename T>
std::vector<T> PickMove(std::vector<T>& v, const std::vector<int>& idx) {
  std::vector<T> out;
  out.reserve(idx.size());
  for (size_t j = 0; j < idx.size(); ++j) {
    // Indices are non-decreasing: move unless the next kept frame is the same source frame.
    const bool reused = j + 1 < idx.size() && idx[j + 1] == idx[j];
    out.push_back(reused ? v[idx[j]] : std::move(v[idx[j]]));
  }
  return out;
}

constexpr double kMaxRepeat = 100;  // the most kept frames per source frame

}  // namespace

absl::StatusOr<std::vector<int>> ResampleIndices(int num_frames, double fps, double rate_hz) {
  if (num_frames < 1) return absl::InvalidArgumentError(absl::StrCat("resample: ", num_frames, " frames"));
  if (!std::isfinite(fps) || fps <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("resample: frame rate ", fps, " Hz is not positive"));
  }
  if (!std::isfinite(rate_hz) || rate_hz <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("resample: control rate ", rate_hz, " Hz is not positive"));
  }
  // Repeating frames makes up for a slower source, within reason: a rate below rate_hz / kMaxRepeat is
  // taken for a wrong one (a period stored as a rate, say) and refused, rather than building an
  // episode of millions of copies of its frames.
  if (fps * kMaxRepeat < rate_hz) {
    return absl::InvalidArgumentError(
        absl::StrCat("resample: frame rate ", fps, " Hz is below the control rate ", rate_hz, " Hz / ", kMaxRepeat,
                     " (each frame would repeat more than ", kMaxRepeat, " times); is the file's rate right?"));
  }
  const double step = fps / rate_hz;  // source frames per kept frame
  // Kept frame j at time j / rate, for times within the episode's [0, (T - 1) / fps].
  const int kept = static_cast<int>(std::floor((num_frames - 1) / step + 1e-9)) + 1;
  std::vector<int> idx(kept);
  for (int j = 0; j < kept; ++j) {
    const int i = static_cast<int>(std::floor(j * step + 0.5 + 1e-9));
    idx[j] = std::min(i, num_frames - 1);
  }
  return idx;
}

absl::StatusOr<data::UnifiedEpisode> ResampleEpisode(data::UnifiedEpisode episode, double rate_hz) {
  const int n = episode.num_frames();
  if (static_cast<int>(episode.masks.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(episode.source, ": ", episode.masks.size(), " masks for ", n, " frames"));
  }
  auto idx = ResampleIndices(n, episode.fps, rate_hz);
  if (!idx.ok()) return absl::InvalidArgumentError(absl::StrCat(episode.source, ": ", idx.status().message()));
  episode.states = Pick(episode.states, *idx);
  episode.masks = Pick(episode.masks, *idx);
  if (!episode.complement_masks.empty()) {
    if (static_cast<int>(episode.complement_masks.size()) != n) {
      return absl::InvalidArgumentError(absl::StrCat(episode.source, ": ", episode.complement_masks.size(),
                                                     " complement masks for ", n, " frames"));
    }
    episode.complement_masks = Pick(episode.complement_masks, *idx);
  }
  for (data::CameraStream& cam : episode.cameras) {
    if (cam.frames.empty()) continue;
    if (static_cast<int>(cam.frames.size()) != n) {
      return absl::InvalidArgumentError(absl::StrCat(episode.source, ": camera ", cam.name, " has ",
                                                     cam.frames.size(), " frames for ", n, " states"));
    }
    cam.frames = PickMove(cam.frames, *idx);
  }
  episode.fps = rate_hz;
  return episode;
}

}  // namespace mivla::trainer
