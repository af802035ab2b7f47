// File: run_summary.cc
#include "client/tools/run_summary.h"

#include <algorithm>
#include <cmath>

namespace mivla::client {

nlohmann::json ClientStatsJson(const RobotClientStats& c, const SafetyLayer::Stats& s) {
  nlohmann::json j;
  j["ticks"] = c.ticks;
  j["fresh_ticks"] = c.fresh_ticks;
  j["fresh_share"] = c.ticks > 0 ? static_cast<double>(c.fresh_ticks) / c.ticks : 0.0;
  j["chunks"] = c.chunks;
  j["failed_requests"] = c.failed_requests;
  j["reconnects"] = c.reconnects;
  j["missed_deadlines"] = c.missed_deadlines;
  j["ik_failures"] = c.ik_failures;
  j["gripper_latched_ticks"] = c.gripper_latched_ticks;
  nlohmann::json holds = nlohmann::json::object();
  for (int r = 1; r < kNumHoldReasons; ++r) holds[HoldReasonName(static_cast<HoldReason>(r))] = s.holds[r];
  j["holds"] = holds;
  j["hold_ticks"] = s.hold_ticks;
  nlohmann::json clamps = nlohmann::json::object();
  for (int k = 0; k < kNumClampKinds; ++k) clamps[ClampKindName(static_cast<ClampKind>(k))] = s.clamps[k];
  j["clamps"] = clamps;
  if (!c.round_trip_us.empty()) {
    std::vector<double> rt(c.round_trip_us.begin(), c.round_trip_us.end());
    j["round_trip_ms_p50"] = Quantile(rt, 0.5) / 1000.0;
    j["round_trip_ms_p99"] = Quantile(rt, 0.99) / 1000.0;
  }
  return j;
}

nlohmann::json EpisodeJson(const EpisodeResult& r) {
  nlohmann::json j;
  j["task"] = r.task;
  j["embodiment"] = std::string(action::EmbodimentName(r.embodiment));
  j["seed"] = r.seed;
  if (!r.error.empty()) {
    j["status"] = "error";
    j["error"] = r.error;
    return j;
  }
  j["status"] = "ok";
  j["instruction"] = r.instruction;
  j["success"] = r.success;
  j["completeness"] = r.completeness;
  j["steps"] = r.steps;
  j["time_to_success_s"] = r.time_to_success_s;
  j["wall_s"] = r.wall_s;
  j["client"] = ClientStatsJson(r.client, r.safety);
  return j;
}

}  // namespace mivla::client
