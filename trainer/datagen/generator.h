// File: generator.h
// The mivla-datagen run: for episode i of N, runs the task's scripted expert with seed
// EpisodeSeed(S, i, attempt) for attempt = 0, 1, ... until a rollout succeeds (at most max_attempts),
// and writes the successful one through EpisodeStore (core/data's writers). Episodes already finished
// on disk are skipped (a re-run resumes); damaged ones are redone. K worker threads take episodes
// from a shared counter; each owns its Renderer (EGL context) and every rollout builds its own MuJoCo
// model and data, so episode i's content depends only on (task, embodiment, mode, S, i), never on K
// or on which episodes already existed.
// With GenerateOptions::policy_server each attempt is an expert takeover (takeover.h): a policy drives
// first, the expert finishes, and only the expert's part is written (DAgger-style data).
// RunDatagen is safe to call from one thread at a time per output directory.
#ifndef MIVLA_TRAINER_DATAGEN_GENERATOR_H_
#define MIVLA_TRAINER_DATAGEN_GENERATOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "trainer/datagen/flags.h"
#include "trainer/datagen/takeover.h"

namespace mivla::datagen {

/// The simulator seed of attempt `attempt` at episode `index` of a run with seed `run_seed`
/// (a SplitMix64 mix of the three, kept to 31 bits so `mivla-sim --first-seed` can replay it).
uint64_t EpisodeSeed(uint64_t run_seed, int index, int attempt);

struct EpisodeOutcome {
  int index = 0;
  enum class Status { kWritten, kSkipped, kFailed } status = Status::kFailed;
  uint64_t seed = 0;      // the seed of the written rollout (written episodes)
  int attempts = 0;       // expert rollouts run for it in this run
  int discarded = 0;      // takeover attempts discarded (the policy completed a sub-task first)
  int takeover_tick = -1;  // takeover: the ticks the policy drove in the last attempt
  int frames = 0;
  std::string path;       // the HDF5 file
  std::string note;       // why it failed, or why an existing file was redone
};

struct RunSummary {
  GenerateOptions options;
  std::string format;       // "robotwin" or "egodex"
  std::string episode_dir;
  int written = 0, skipped = 0, failed = 0, redone = 0;
  int attempts = 0, expert_successes = 0, discarded = 0;
  long frames_written = 0, frames_total = 0;
  double seconds = 0.0;
  std::vector<EpisodeOutcome> episodes;  // by index

  /// The summary.json object (see trainer/README.md for the fields).
  nlohmann::json ToJson() const;
};

/// The expert-takeover settings of `options`: nullopt without a policy server; otherwise the robot
/// client's file (--robot-config, or the embodiment's default) loaded and checked to be for the run's
/// embodiment (INVALID_ARGUMENT naming the flag otherwise). Creates nothing, so a bad file stops a run
/// before its output directory exists.
absl::StatusOr<std::optional<TakeoverOptions>> LoadTakeoverOptions(const GenerateOptions& options);

/// Runs the generation and writes DIR/summary.json. Returns the summary also when episodes failed
/// (summary.failed > 0); an error status only for what stops the whole run (a takeover configuration that
/// LoadTakeoverOptions refuses, checked first; an output directory that cannot be created, a worker's renderer that
/// cannot be created, a simulator error other than a failed rollout).
absl::StatusOr<RunSummary> RunDatagen(const GenerateOptions& options);

}  // namespace mivla::datagen

#endif  // MIVLA_TRAINER_DATAGEN_GENERATOR_H_
