#include "trainer/train/grasp_weights.h"

#include <algorithm>
#include <cmath>

#include "core/action/action_space.h"

namespace mivla::trainer {

std::vector<int> GraspFrames(const data::UnifiedEpisode& episode) {
  std::vector<int> grasps;
  const int n = episode.num_frames();
  for (const action::Slice& arm : {action::kJointsLeft, action::kJointsRight}) {
    const int g = arm.end() - 1;  // the gripper opening is the slice's last value
    double lo = INFINITY, hi = -INFINITY;
    for (int t = 0; t < n; ++t) {
      if (!episode.masks[t][g]) continue;
      lo = std::min(lo, episode.states[t][g]);
      hi = std::max(hi, episode.states[t][g]);
    }
    if (!(hi - lo >= kMinGripperTravel)) continue;
    const double mid = 0.5 * (lo + hi);
    for (int t = 1; t < n; ++t) {
      if (!episode.masks[t - 1][g] || !episode.masks[t][g]) continue;
      if (episode.states[t - 1][g] > mid && episode.states[t][g] <= mid) grasps.push_back(t);
    }
  }
  std::sort(grasps.begin(), grasps.end());
  return grasps;
}

std::vector<double> GraspFrameWeights(const data::UnifiedEpisode& episode, int drawable, const GraspBoost& boost) {
  std::vector<double> weights(std::max(0, drawable), 1.0);
  if (!boost.enabled() || !(episode.fps > 0)) return weights;
  const int before = static_cast<int>(std::lround(boost.before_s * episode.fps));
  const int after = static_cast<int>(std::lround(boost.after_s * episode.fps));
  for (int grasp : GraspFrames(episode)) {
    const int first = std::max(0, grasp - before);
    const int last = std::min(drawable - 1, grasp + after);
    for (int t = first; t <= last; ++t) weights[t] = boost.factor;
  }
  return weights;
}

}  // namespace mivla::trainer
