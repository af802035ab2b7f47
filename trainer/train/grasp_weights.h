// File: grasp_weights.h
// Frame weights that draw the samples around a robot's grasps more often. A grasp is where an arm's
// gripper opening (its own, labelled slot: joints_left[6] or joints_right[6], in metres) falls through
// the middle of the episode's range; frames from `before_s` before to `after_s` after it weigh `factor`,
// the others 1. Episodes without a gripper that moves by at least kMinGripperTravel (human hands, a
// gripper held still) weigh 1 everywhere. The loader (data_loader.h) gives these weights to the data mix
// (data_mix.h), so the source weights stay as configured and only the frames within a source shift.
//
//   GraspBoost boost{.factor = 3, .before_s = 1.5, .after_s = 0.5};
//   std::vector<double> w = GraspFrameWeights(episode, drawable_frames, boost);  // episode at its own fps
//
// Pure functions; thread-safe.
#ifndef MIVLA_TRAINER_TRAIN_GRASP_WEIGHTS_H_
#define MIVLA_TRAINER_TRAIN_GRASP_WEIGHTS_H_

#include <vector>

#include "core/data/unified_episode.h"

namespace mivla::trainer {

struct GraspBoost {
  double factor = 1.0;    // weight of a frame near a grasp; 1 = off
  double before_s = 1.5;  // window before the gripper's mid-range crossing (seconds)
  double after_s = 0.5;   // and after it
  bool enabled() const { return factor != 1.0; }
};

/// A gripper must travel this far (metres, max - min over the episode) for its closings to count.
inline constexpr double kMinGripperTravel = 0.005;

/// Frames (of episode.fps) at which a gripper of the episode closes: its opening is above the middle of
/// its range at frame t - 1 and at or below it at frame t. Sorted, both arms merged.
std::vector<int> GraspFrames(const data::UnifiedEpisode& episode);

/// Weights of the first `drawable` frames (>= 0) as described above; all 1 when !boost.enabled().
std::vector<double> GraspFrameWeights(const data::UnifiedEpisode& episode, int drawable, const GraspBoost& boost);

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_GRASP_WEIGHTS_H_
