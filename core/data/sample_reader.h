// File: sample_reader.h
// Training samples cut from a UnifiedEpisode: for frame t, the observation images (each camera's frame
// t, decoded RGB), the instruction, the proprioception (the 76-value state at t with its mask) and the
// action chunk [H x 76]: step k holds the state at t + offset + k. Past the episode's end the chunk
// repeats the last frame and marks the step invalid (step_valid[k] = false). Pure functions;
// thread-safe.
//
//   ASSIGN_OR_RETURN(UnifiedEpisode ep, LoadUnifiedEpisode(path, {}));   // episode_loader.h
//   ASSIGN_OR_RETURN(Sample s, MakeSample(ep, /*t=*/10, {.horizon = 16}));
#ifndef MIVLA_CORE_DATA_SAMPLE_READER_H_
#define MIVLA_CORE_DATA_SAMPLE_READER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/unified_episode.h"

namespace mivla::data {

struct SampleOptions {
  int horizon = 16;       // H
  int action_offset = 1;  // chunk step 0 = state at t + offset (1: the next frame)
  bool with_images = true;
};

struct Sample {
  action::Embodiment embodiment = action::Embodiment::kHuman;
  int frame = 0;  // t
  std::string instruction;
  std::vector<std::pair<std::string, RgbImage>> images;  // (camera name, frame t), cameras with frames
  UnifiedVector proprio{};
  action::ActionMask proprio_mask;
  std::vector<UnifiedVector> actions;           // [H]
  std::vector<action::ActionMask> step_masks;   // [H] mask of the frame each step was taken from
  std::vector<bool> step_valid;                 // [H] false for padded steps
  action::ActionMask action_mask;               // slots valid in every valid step
};

/// InvalidArgument if t is outside [0, T) or horizon < 1 or action_offset < 0.
absl::StatusOr<Sample> MakeSample(const UnifiedEpisode& episode, int t, const SampleOptions& options);
/// One sample per frame t in [0, T).
absl::StatusOr<std::vector<Sample>> MakeSamples(const UnifiedEpisode& episode, const SampleOptions& options);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_SAMPLE_READER_H_
