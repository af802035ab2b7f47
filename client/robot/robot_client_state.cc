// File: robot_client_state.cc
#include "client/robot/robot_client_state.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/log.h"
#include "core/util/status_macros.h"
#include "proto/request_builder.h"

namespace mivla::client {

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void RobotClientState::MarkLost(const absl::Status& why) {
  {
    absl::MutexLock l(&mu);
    if (!health.server_connected) return;
    health.server_connected = false;
    ++stats.failed_requests;
  }
  if (metrics != nullptr) metrics->SetConnected(false);
  LogWarning("robot_client", absl::StrCat("policy server lost (", why.ToString(), "); holding and reconnecting"));
}

void RobotClientState::MarkReconnected() {
  {
    absl::MutexLock l(&mu);
    health.server_connected = true;
    scheduler.Clear();
    ++stats.reconnects;
  }
  if (metrics != nullptr) {
    metrics->SetConnected(true);
    metrics->CountReconnect();
  }
  LogInfo("robot_client", absl::StrCat("reconnected to ", conn->options().target, ", session ", conn->session_id()));
}

absl::Status RobotClientState::FetchChunk(const RobotReading& reading) {
  mivla::v1::ObserveRequest req;
  req.set_timestamp_us(reading.time_us);
  for (const CameraFrame& f : reading.images) {
    request::AddRawImage(f.camera, f.width, f.height, f.rgb.data(), f.capture_time_us, &req);
  }
  RETURN_IF_ERROR(adapter->FillProprioception(reading, req.mutable_proprioception()));
  // The seed index counts answered requests, so a retried request samples as the first try would.
  const uint64_t seed = options.seed == 0 ? 0 : options.seed + requests;
  ASSIGN_OR_RETURN(ChunkReply reply, conn->ObserveAndAct(std::move(req), seed));
  ++requests;
  ASSIGN_OR_RETURN(request::DecodedChunk chunk, request::DecodeChunk(reply.act.chunk(), adapter->session_embodiment()));
  std::vector<TimedAction> steps;
  steps.reserve(chunk.steps.size());
  for (const request::DecodedStep& s : chunk.steps) {
    ASSIGN_OR_RETURN(RobotCommand cmd, adapter->Map(s));
    steps.push_back({s.time_us, std::move(cmd), 0});
  }
  const int64_t now = Now();
  if (metrics != nullptr) {
    metrics->ObserveRoundTrip(reply.round_trip_us * 1e-6);
    metrics->CountChunk();
  }
  absl::MutexLock l(&mu);
  const uint64_t id = next_chunk_id++;
  for (TimedAction& a : steps) a.chunk_id = id;
  scheduler.AddChunk(now, id, steps);
  // A chunk is as old as the observation it was predicted from (round trip included).
  health.newest_chunk_observed_us = std::max(health.newest_chunk_observed_us, reading.time_us);
  ++stats.chunks;
  stats.ik_failures = adapter->ik_failures();
  if (options.record_ticks) stats.round_trip_us.push_back(reply.round_trip_us);
  return absl::OkStatus();
}

Failure RobotClientState::HandleFailure(const absl::Status& s) {
  Failure kind = ClassifyFailure(s);
  if (kind == Failure::kRefused && s.code() == absl::StatusCode::kDeadlineExceeded && !conn->ChannelReady()) {
    kind = Failure::kLost;
  }
  if (kind == Failure::kLost) {
    MarkLost(s);
    return kind;
  }
  absl::MutexLock l(&mu);
  ++stats.failed_requests;
  if (kind == Failure::kFatal) {
    if (fatal.ok()) fatal = FatalClientError(s);
    LogError("robot_client", std::string(fatal.message()));
  } else {
    LogWarning("robot_client", absl::StrCat("chunk request failed: ", s.ToString()));
  }
  return kind;
}

void RobotClientState::Account(const SafetyDecision& dec, int64_t start) {
  const bool fresh = dec.hold == HoldReason::kNone;
  {
    absl::MutexLock l(&mu);
    ++stats.ticks;
    if (fresh) ++stats.fresh_ticks;
    if (options.record_ticks) {
      stats.tick_start_us.push_back(start);
      stats.tick_work_us.push_back(WallUs() - start);
    }
  }
  const std::array<int64_t, kNumHoldReasons>& holds = safety->stats().holds;
  if (metrics != nullptr) {
    metrics->CountTick(fresh);
    for (int r = 1; r < kNumHoldReasons; ++r) {
      for (int64_t n = holds_seen[r]; n < holds[r]; ++n) metrics->CountHold(static_cast<HoldReason>(r));
    }
    for (ClampKind c : dec.clamps) metrics->CountClamp(c);
  }
  holds_seen = holds;
}

bool RobotClientState::Stopping() {
  absl::MutexLock l(&mu);
  return worker_stop;
}

}  // namespace mivla::client
