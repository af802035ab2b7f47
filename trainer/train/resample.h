// File: resample.h
// Frame-rate resampling of episodes to the model's control rate. Each source records at its own rate
// (EgoDex 30 Hz, mivla-datagen 25 Hz, RoboTwin its `control_hz`); the model's action chunk steps are
// 1 / control_rate_hz apart. Kept frame j is the source frame nearest to time j / rate:
// round(j * fps / rate), for every j whose time lies within the episode. A 30 Hz episode at 10 Hz keeps
// frames 0, 3, 6, ...; at 25 Hz it keeps 0, 3 (2.5 rounds up), 5, 8 (7.5), 10, ...; a source slower
// than the rate repeats frames. The observation frame and the chunk's steps are then taken from the
// resampled episode, so both are on the control-rate grid. Pure functions; thread-safe.
#ifndef MIVLA_TRAINER_TRAIN_RESAMPLE_H_
#define MIVLA_TRAINER_TRAIN_RESAMPLE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "core/data/unified_episode.h"

namespace mivla::trainer {

/// Source frame index of each kept frame. InvalidArgument for fps or rate_hz not positive and finite,
/// num_frames < 1, or fps below rate_hz / 100 (each frame repeated more than 100 times: a wrong rate).
absl::StatusOr<std::vector<int>> ResampleIndices(int num_frames, double fps, double rate_hz);

/// The episode with every per-frame field (states, masks, complement masks, camera frames) taken at
/// ResampleIndices(num_frames, episode.fps, rate_hz), and fps = rate_hz. Errors name episode.source.
absl::StatusOr<data::UnifiedEpisode> ResampleEpisode(data::UnifiedEpisode episode, double rate_hz);

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_RESAMPLE_H_
