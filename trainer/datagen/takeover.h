// File: takeover.h
// Expert takeover, for DAgger-style data (mivla-datagen --policy-server): a policy served by
// mivla-server drives the simulated robot through the robot client (client/, configured like a real
// robot by its client/config file: scheduler, safety, retargeting; lockstep clock) for a number of
// control ticks, then the task's scripted expert finishes the episode from wherever the policy left the
// arm and the objects (client::SimDriver::RunExpertFromHere). Only the expert's part is recorded, so a
// policy trained on it learns to recover from the states it reaches itself, with the expert's actions.
//
// The tick of the takeover is drawn per seed from [min_ticks, max_ticks] (the same seed, the same
// tick). An attempt in which the policy completes a sub-task before the takeover is discarded
// (the expert would start its plan over from an object already held); so is one in which the physics
// diverged.
//
// Thread-safety: concurrent calls need separate renderers; each call opens its own robot session.
#ifndef MIVLA_TRAINER_DATAGEN_TAKEOVER_H_
#define MIVLA_TRAINER_DATAGEN_TAKEOVER_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/robot/robot_config.h"
#include "sim/renderer.h"
#include "sim/rollout.h"

namespace mivla::datagen {

struct TakeoverOptions {
  std::string server;          // HOST:PORT of mivla-server
  client::RobotConfig config;  // the robot client's configuration (its embodiment must be the episode's)
  int min_ticks = 10;          // the takeover tick is drawn from [min_ticks, max_ticks]
  int max_ticks = 120;
};

struct TakeoverResult {
  int tick = 0;                         // control ticks the policy drove before the takeover
  std::optional<sim::Episode> episode;  // the expert's recording; empty when discarded
  std::string discarded;                // why it was discarded
};

/// The takeover tick for an episode seed (uniform in [min_ticks, max_ticks], from the seed alone).
int TakeoverTick(const TakeoverOptions& options, uint64_t seed);

/// Runs one takeover episode for `episode` (task, embodiment, mode, seed; record / render as the expert
/// recording should be). Errors: the robot session's (server unreachable, session refused), the
/// simulator's; INVALID_ARGUMENT for a config of another embodiment or a bad tick range.
absl::StatusOr<TakeoverResult> RunTakeoverEpisode(const TakeoverOptions& options, const sim::EpisodeOptions& episode,
                                                  sim::Renderer* renderer);

}  // namespace mivla::datagen

#endif  // MIVLA_TRAINER_DATAGEN_TAKEOVER_H_
