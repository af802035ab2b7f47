// File: takeover.cc
#include "trainer/datagen/takeover.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/eval/evaluator.h"
#include "client/eval/sim_episode.h"
#include "core/util/split_mix64.h"
#include "core/util/status_macros.h"

namespace mivla::datagen {

int TakeoverTick(const TakeoverOptions& options, uint64_t seed) {
  const uint64_t span = static_cast<uint64_t>(std::max(0, options.max_ticks - options.min_ticks)) + 1;
  return options.min_ticks + static_cast<int>(SplitMix64(seed ^ 0x74616B656F766572ull) % span);
}

absl::StatusOr<TakeoverResult> RunTakeoverEpisode(const TakeoverOptions& options, const sim::EpisodeOptions& episode,
                                                  sim::Renderer* renderer) {
  if (options.config.embodiment != episode.embodiment) {
    return absl::InvalidArgumentError("expert takeover: the robot configuration is for another embodiment");
  }
  if (options.min_ticks < 1 || options.max_ticks < options.min_ticks) {
    return absl::InvalidArgumentError(
        absl::StrCat("expert takeover: bad tick range ", options.min_ticks, "..", options.max_ticks));
  }
  TakeoverResult result;
  result.tick = TakeoverTick(options, episode.seed);
  client::SimEpisodeOptions so = client::EpisodeFromConfig(options.config, options.server, /*real_time=*/false);
  so.client.robot_id = "mivla-datagen";
  so.driver.task = episode.task;
  so.driver.embodiment = episode.embodiment;
  so.driver.mode = episode.mode;
  so.driver.seed = episode.seed;
  so.driver.unseen_instruction = episode.unseen_instruction;
  so.driver.embodiment_dir = episode.embodiment_dir;
  so.driver.render = true;  // the policy sees the cameras
  so.max_steps = result.tick;
  so.report = false;  // not an evaluation
  std::string progressed;
  so.on_tick = [&progressed](const client::TickInfo&, client::SimDriver& d) {
    const client::SimOutcome o = d.outcome();
    for (size_t k = 0; k < o.subtasks.size() && progressed.empty(); ++k) {
      if (o.subtasks[k]) progressed = absl::StrCat("the policy completed sub-task ", k, " at tick ", o.steps);
    }
    return progressed.empty() && !o.diverged;
  };
  so.after_run = [&](client::SimDriver& d) -> absl::Status {
    if (d.outcome().diverged) result.discarded = "the physics diverged while the policy drove";
    if (!progressed.empty()) result.discarded = progressed;
    if (!result.discarded.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(sim::Episode recorded, d.RunExpertFromHere(episode, renderer));
    result.episode = std::move(recorded);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(client::RunSimEpisode(so).status());
  return result;
}

}  // namespace mivla::datagen
