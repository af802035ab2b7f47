// File: run_summary.h
// JSON summaries of a robot run for mivla-robot, mivla-eval and mivla-bench-client: one episode
// (outcome, ticks served from fresh chunks, round trips, holds by reason, clamps by kind) and the
// client / safety statistics alone. Pure functions; thread-safe.
#ifndef MIVLA_CLIENT_TOOLS_RUN_SUMMARY_H_
#define MIVLA_CLIENT_TOOLS_RUN_SUMMARY_H_

#include <cstdint>
#include <vector>

#include "client/eval/sim_episode.h"
#include "core/util/quantile.h"
#include "nlohmann/json.hpp"

namespace mivla::client {

nlohmann::json ClientStatsJson(const RobotClientStats& client, const SafetyLayer::Stats& safety);
/// "status": "ok" with the outcome, or "error" with the message (task, embodiment, seed in both).
nlohmann::json EpisodeJson(const EpisodeResult& r);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_TOOLS_RUN_SUMMARY_H_
