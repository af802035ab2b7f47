// File: sample_reader.h
// Training samples cut from a UnifiedEpisode: for frame t, the observation images (each camera's frame
// t, decoded RGB), the instruction, the proprioception (the 76-value state at t with its mask) and the
// action chunk [H x 76]: step k holds the state at t + offset + k. Past the episode's end the chunk
// repeats the last frame and marks the step invalid (step_valid[k] = false). The chunk carries both the
// episode's own slots (label_mask) and, when the episode has complements (complements.h), the retargeted
// slots of the other embodiment (complement_mask); a complement slot counts only if it is valid in every
// valid step (an IK failure anywhere in the chunk drops that arm's slots). The proprioception is the own
// slots only (proprio_mask = masks[t]). Pure functions; thread-safe.
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
  std::string instruction;                // the episode's default phrasing
  std::vector<std::string> instructions;  // all its phrasings (the collator draws one); may be empty
  std::vector<std::pair<std::string, RgbImage>> images;  // (camera name, frame t), cameras with frames
  UnifiedVector proprio{};
  action::ActionMask proprio_mask;
  std::vector<UnifiedVector> actions;           // [H]
  std::vector<action::ActionMask> step_masks;   // [H] label | complement mask of the frame of each step
  std::vector<bool> step_valid;                 // [H] false for padded steps
  action::ActionMask label_mask;       // own-embodiment slots valid in every valid step
  action::ActionMask complement_mask;  // complement slots (episode.complement_masks) valid in every valid step
  action::ActionMask action_mask;      // label_mask | complement_mask
};

/// InvalidArgument if t is outside [0, T) or horizon < 1 or action_offset < 0.
absl::StatusOr<Sample> MakeSample(const UnifiedEpisode& episode, int t, const SampleOptions& options);
/// One sample per frame t in [0, T).
absl::StatusOr<std::vector<Sample>> MakeSamples(const UnifiedEpisode& episode, const SampleOptions& options);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_SAMPLE_READER_H_
