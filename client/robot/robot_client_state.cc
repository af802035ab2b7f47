// File: robot_client_state.cc
#include "client/robot/robot_client_state.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
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
    stats.last_server_lost_us = WallUs();
  }
  if (metrics != nullptr) metrics->SetConnected(false);
  LogWarning("robot_client", absl::StrCat("policy server lost (", why.ToString(), "); holding and reconnecting"));
}

void RobotClientState::MarkReconnected() {
  {
    absl::MutexLock l(&mu);
    health.server_connected = true;
    scheduler.Clear();
    pending.reset();
    ++stats.reconnects;
  }
  if (metrics != nullptr) {
    metrics->SetConnected(true);
    metrics->CountReconnect();
  }
  LogInfo("robot_client", absl::StrCat("reconnected to ", conn->options().target, ", session ", conn->session_id()));
}

int RobotClientState::EstimateDelaySteps(bool lockstep) const {
  if (lockstep) return std::max(0, options.lockstep_delay_ticks);
  int64_t rtt = 0;
  for (int64_t r : round_trips_us) rtt = std::max(rtt, r);
  return std::max<int>(1, static_cast<int>((rtt + period_us - 1) / period_us));
}

absl::StatusOr<ReceivedChunk> RobotClientState::RequestChunk(const RobotReading& reading, bool lockstep) {
  mivla::v1::ObserveRequest req;
  req.set_timestamp_us(reading.time_us);
  for (const CameraFrame& f : reading.images) {
    request::AddRawImage(f.camera, f.width, f.height, f.rgb.data(), f.capture_time_us, &req);
  }
  RETURN_IF_ERROR(adapter->FillProprioception(reading, req.mutable_proprioception()));
  ReceivedChunk out;
  out.observed_us = reading.time_us;
  mivla::v1::ActRequest act;
  if (realtime_chunking) {
    std::vector<TimedAction> plan;
    int64_t tol = 0;
    {
      absl::MutexLock l(&mu);
      tol = scheduler.options().tolerance_us;
      plan = scheduler.Plan(reading.time_us, static_cast<int>(conn->session().action_horizon()));
    }
    // Only steps on the observation's tick grid (step k for the tick at observation time + k periods: a
    // tick that ran before this request was built leaves a gap, and then nothing is sent) that carry the
    // session's values, within the server's unified bound (+-10).
    size_t usable = 0;
    for (; usable < plan.size() && plan[usable].has_unified; ++usable) {
      bool ok = std::llabs(plan[usable].time_us - (reading.time_us + static_cast<int64_t>(usable) * period_us)) <= tol;
      for (float v : plan[usable].unified) ok = ok && std::isfinite(v) && std::abs(v) <= 10.0f;
      if (!ok) break;
    }
    if (usable > 0) {
      const int d = std::min(EstimateDelaySteps(lockstep), static_cast<int>(usable));
      act.set_inference_delay_steps(static_cast<uint32_t>(d));
      for (size_t k = 0; k < usable; ++k) {
        act.add_committed_steps()->mutable_unified()->Add(plan[k].unified.begin(), plan[k].unified.end());
      }
      out.splice = true;
      out.splice_from_us = reading.time_us + d * period_us;
    }
  }
  // The seed index counts answered requests, so a retried request samples as the first try would.
  const uint64_t seed = options.seed == 0 ? 0 : options.seed + requests;
  ASSIGN_OR_RETURN(ChunkReply reply, conn->ObserveAndAct(std::move(req), seed, std::move(act)));
  ++requests;
  ASSIGN_OR_RETURN(request::DecodedChunk chunk, request::DecodeChunk(reply.act.chunk(), adapter->session_embodiment()));
  out.steps.reserve(chunk.steps.size());
  for (const request::DecodedStep& s : chunk.steps) {
    ASSIGN_OR_RETURN(RobotCommand cmd, adapter->Map(s));
    TimedAction a{s.time_us, std::move(cmd), 0};
    a.has_unified = s.has_unified;
    a.unified = s.unified;
    out.steps.push_back(std::move(a));
  }
  out.round_trip_us = reply.round_trip_us;
  round_trips_us.push_back(reply.round_trip_us);
  if (round_trips_us.size() > 5) round_trips_us.pop_front();
  return out;
}

void RobotClientState::QueueChunk(const ReceivedChunk& c) {
  const int64_t now = Now();
  if (metrics != nullptr) {
    metrics->ObserveRoundTrip(c.round_trip_us * 1e-6);
    metrics->CountChunk();
  }
  absl::MutexLock l(&mu);
  const uint64_t id = next_chunk_id++;
  std::vector<TimedAction> steps = c.steps;
  for (TimedAction& a : steps) a.chunk_id = id;
  if (c.splice) {
    scheduler.SpliceChunk(now, id, steps, c.splice_from_us);
    ++stats.guided_chunks;
  } else {
    scheduler.AddChunk(now, id, steps);
  }
  // A chunk is as old as the observation it was predicted from (round trip included).
  health.newest_chunk_observed_us = std::max(health.newest_chunk_observed_us, c.observed_us);
  ++stats.chunks;
  stats.ik_failures = adapter->ik_failures();
  if (options.record_ticks) stats.round_trip_us.push_back(c.round_trip_us);
}

absl::Status RobotClientState::FetchChunk(const RobotReading& reading, bool lockstep) {
  ASSIGN_OR_RETURN(ReceivedChunk c, RequestChunk(reading, lockstep));
  if (lockstep && options.lockstep_delay_ticks > 0) {
    c.arrive_us = reading.time_us + options.lockstep_delay_ticks * period_us;
    pending = std::move(c);
    return absl::OkStatus();
  }
  QueueChunk(c);
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
