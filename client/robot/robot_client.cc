// File: robot_client.cc
// The control loop (Run) and the session's life; the inference side is in robot_client_state.cc,
// inference_worker.cc (wall clock) and lockstep_refill.cc (simulated clock).
#include "client/robot/robot_client.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/robot/inference_worker.h"
#include "client/robot/lockstep_refill.h"
#include "client/robot/realtime_scope.h"
#include "client/robot/robot_client_state.h"
#include "core/util/log.h"
#include "core/util/status_macros.h"
#include "proto/request_builder.h"

namespace mivla::client {
namespace {

// Calls `call` until it succeeds, fails with something other than UNAVAILABLE / DEADLINE_EXCEEDED (a
// server not up yet, or too busy to answer the handshake), or `give_up_ms` have passed; waits the
// connection's backoff between tries. The last result is returned.
template <typename Call>
auto RetryWhileUnreachable(PolicyConnection& connection, int64_t give_up_ms, const char* what, Call call)
    -> decltype(call()) {
  const absl::Time give_up = absl::Now() + absl::Milliseconds(give_up_ms);
  while (true) {
    auto r = call();
    if (r.ok()) return r;
    const absl::Status& s = r.status();
    if (!absl::IsUnavailable(s) && !absl::IsDeadlineExceeded(s)) return r;
    const int64_t wait_ms = connection.NextBackoffMs();
    if (absl::Now() + absl::Milliseconds(wait_ms) >= give_up) return r;
    LogWarning("robot_client", absl::StrCat(what, " failed (", s.ToString(), "); retrying in ", wait_ms, " ms"));
    absl::SleepFor(absl::Milliseconds(wait_ms));
  }
}

}  // namespace

RobotClient::RobotClient(std::unique_ptr<RobotClientState> state, std::unique_ptr<PolicyConnection> connection)
    : state_(std::move(state)), connection_(std::move(connection)) {
  state_->conn = connection_.get();
}

RobotClient::~RobotClient() {
  if (state_->worker.joinable()) {
    {
      absl::MutexLock l(&state_->mu);
      state_->worker_stop = true;
    }
    state_->worker.join();
  }
}

absl::StatusOr<std::unique_ptr<RobotClient>> RobotClient::Create(RobotDriver* driver,
                                                                 std::unique_ptr<PolicyConnection> connection,
                                                                 ClientMetrics* metrics, Options options) {
  if (driver == nullptr || connection == nullptr) return absl::InvalidArgumentError("RobotClient: driver and connection are required");
  auto st = std::make_unique<RobotClientState>();
  st->driver = driver;
  st->metrics = metrics;
  st->period_us = static_cast<int64_t>(std::llround(driver->control_period_s() * 1e6));
  if (st->period_us <= 0) return absl::InvalidArgumentError("RobotClient: the driver's control period is not positive");
  options.scheduler.period_us = st->period_us;
  options.safety.period_us = st->period_us;
  std::optional<mivla::v1::GetPolicyInfoResponse> info;
  if (options.adapter.mode == RetargetMode::kAuto || options.scheduler.realtime_chunking) {
    absl::StatusOr<mivla::v1::GetPolicyInfoResponse> got = RetryWhileUnreachable(
        *connection, options.connect_give_up_ms, "GetPolicyInfo", [&] { return connection->GetPolicyInfo(); });
    if (got.ok()) {
      info = *std::move(got);
    } else if (options.adapter.mode == RetargetMode::kAuto) {
      return got.status();
    } else {  // only real-time chunking asked: a server that cannot say does not offer it
      LogWarning("robot_client", absl::StrCat("GetPolicyInfo failed (", got.status().ToString(),
                                              "); real-time chunking stays off"));
    }
    st->realtime_chunking = info.has_value() && options.scheduler.realtime_chunking && info->realtime_chunking();
    LogInfo("robot_client",
            absl::StrCat("real-time chunking: ", st->realtime_chunking ? "on" : "off", " (server ",
                         info.has_value() && info->realtime_chunking() ? "offers it" : "does not offer it", ", client ",
                         options.scheduler.realtime_chunking ? "wants it" : "switched off", ")"));
  }
  if (options.adapter.mode == RetargetMode::kAuto) {
    std::vector<action::Embodiment> served;
    for (int e : info->embodiments()) {
      absl::StatusOr<action::Embodiment> t = request::EmbodimentFromProto(e, "GetPolicyInfo.embodiments");
      if (t.ok()) served.push_back(*t);
    }
    ASSIGN_OR_RETURN(options.adapter, ResolveRetarget(options.adapter, driver->embodiment(), served));
    LogInfo("robot_client", absl::StrCat("model ", info->model_version(), ": retarget mode ",
                                         RetargetModeName(options.adapter.mode), ", session embodiment ",
                                         std::string(action::EmbodimentName(*options.adapter.session_embodiment))));
  }
  ASSIGN_OR_RETURN(st->adapter, EmbodimentAdapter::Create(driver->embodiment(), options.adapter));
  ASSIGN_OR_RETURN(SafetyLayer safety, SafetyLayer::Create(driver->embodiment(), options.safety));
  st->safety.emplace(std::move(safety));
  ASSIGN_OR_RETURN(GripperLatch latch, GripperLatch::Create(driver->embodiment(), options.gripper));
  st->gripper_latch.emplace(std::move(latch));
  {
    absl::MutexLock l(&st->mu);
    st->scheduler = ChunkScheduler(options.scheduler);
  }
  st->options = std::move(options);
  return std::unique_ptr<RobotClient>(new RobotClient(std::move(st), std::move(connection)));
}

absl::Status RobotClient::StartSession() {
  RobotClientState& s = *state_;
  request::SessionSpec spec;
  spec.embodiment = s.adapter->session_embodiment();
  for (const CameraLayout& c : s.driver->cameras()) spec.cameras.push_back({c.name, c.width, c.height});
  spec.instruction = s.options.instruction;
  spec.task = s.options.task;
  spec.robot_id = s.options.robot_id;
  spec.control_rate_hz = 1.0 / s.driver->control_period_s();
  const mivla::v1::StartSessionRequest request = request::BuildStartSession(spec);
  ASSIGN_OR_RETURN(mivla::v1::StartSessionResponse r,
                   RetryWhileUnreachable(*connection_, s.options.connect_give_up_ms, "StartSession",
                                         [&] { return connection_->StartSession(request); }));
  if (s.metrics != nullptr) s.metrics->SetConnected(true);
  LogInfo("robot_client", absl::StrCat("session ", r.session_id(), " (", std::string(action::EmbodimentName(spec.embodiment)),
                                       ", model ", r.model_version(), ", horizon ", r.action_horizon(), ")"));
  return absl::OkStatus();
}

void RobotClient::SetOperatorStop(bool engaged) {
  if (state_->safety->operator_stop() == engaged) return;
  state_->safety->SetOperatorStop(engaged);
  LogWarning("robot_client", engaged ? "operator stop engaged: holding" : "operator stop released");
}
const SafetyLayer& RobotClient::safety() const { return *state_->safety; }

RobotClientStats RobotClient::stats() const {
  absl::MutexLock l(&state_->mu);
  return state_->stats;
}

absl::Status RobotClient::Run(int64_t max_ticks, const std::function<bool(const TickInfo&)>& on_tick) {
  RobotClientState& s = *state_;
  RobotDriver& d = *s.driver;
  const bool lockstep = d.simulated_clock();
  RETURN_IF_ERROR(d.Start());
  ASSIGN_OR_RETURN(RobotReading first, d.Read(/*with_images=*/!lockstep && s.options.wait_for_first_chunk));
  s.safety->Reset(first);
  s.gripper_latch->Reset();
  s.adapter->Reset(first);
  if (!lockstep && s.options.wait_for_first_chunk) {
    absl::Status f = s.FetchChunk(first);
    if (!f.ok() && s.HandleFailure(f) == Failure::kFatal) return FatalClientError(f);
  }
  if (!lockstep && !s.worker.joinable()) s.worker = std::thread([&s] { RunInferenceWorker(s); });
  RealtimeScope realtime(lockstep ? 0 : s.options.realtime_priority);
  s.holds_seen = s.safety->stats().holds;
  int64_t deadline = WallUs();
  const int64_t late_tolerance_us = s.period_us / 10;
  int64_t prev_start = -1;
  for (int64_t k = 0; k < max_ticks && !stop_requested_.load(); ++k) {
    if (!lockstep) {
      std::this_thread::sleep_until(
          std::chrono::steady_clock::time_point(std::chrono::microseconds(deadline - s.options.busy_wait_us)));
      while (s.options.busy_wait_us > 0 && WallUs() < deadline) {
      }
    }
    const int64_t start = WallUs();
    if (!lockstep) {
      // A late tick restarts the grid from its own start: the deadlines that went by are skipped, not
      // run back to back (the safety layer assumes commands a period apart).
      const int64_t late = start - deadline;
      if (late > late_tolerance_us) {
        const int64_t missed = 1 + late / s.period_us;
        {
          absl::MutexLock l(&s.mu);
          s.stats.missed_deadlines += missed;
        }
        if (s.metrics != nullptr) s.metrics->CountMissedDeadlines(missed);
        deadline = start;
      }
      deadline += s.period_us;
    }
    if (prev_start >= 0 && s.metrics != nullptr) s.metrics->ObserveTick((start - prev_start) * 1e-6, s.period_us * 1e-6);
    prev_start = start;
    const int64_t now = s.Now();
    std::optional<RobotReading> reading;
    if (lockstep) RETURN_IF_ERROR(LockstepRefill(s, now, &reading));
    std::optional<TimedAction> action;
    PolicyHealth health;
    bool want_obs = false;
    {
      absl::MutexLock l(&s.mu);
      if (!lockstep) {
        want_obs = !s.in_flight && !s.observation.has_value() && s.health.server_connected &&
                   s.scheduler.NeedsRefill(now);
        if (want_obs) s.in_flight = true;
      }
      if (!s.fatal.ok()) return s.fatal;
      action = s.scheduler.Pop(now);
      health = s.health;
    }
    if (!reading.has_value()) {
      absl::StatusOr<RobotReading> r = d.Read(want_obs);
      if (!r.ok()) {
        absl::MutexLock l(&s.mu);
        s.in_flight = false;
        return r.status();
      }
      reading = std::move(*r);
    }
    if (want_obs) {  // the frames move to the worker; the control loop keeps the state
      RobotReading obs;
      obs.time_us = reading->time_us;
      obs.arms = reading->arms;
      obs.images = std::move(reading->images);
      absl::MutexLock l(&s.mu);
      s.observation = std::move(obs);
    }
    if (action.has_value() && s.gripper_latch->Apply(&action->command)) {
      absl::MutexLock l(&s.mu);
      ++s.stats.gripper_latched_ticks;
    }
    SafetyDecision dec = s.safety->Filter(now, action, health);
    RETURN_IF_ERROR(d.Command(dec.command));
    s.Account(dec, start);
    if (on_tick) {
      TickInfo info{k, now, dec.hold, dec.clamps, &*reading, &dec.command,
                    dec.hold == HoldReason::kNone && action.has_value() ? action->chunk_id : 0,
                    action.has_value() ? &action->command : nullptr};
      if (!on_tick(info)) break;
    }
  }
  return absl::OkStatus();
}

absl::Status RobotClient::Finish(const mivla::v1::ReportEpisodeRequest* report) {
  RobotClientState& s = *state_;
  if (s.worker.joinable()) {
    {
      absl::MutexLock l(&s.mu);
      s.worker_stop = true;
    }
    s.worker.join();
    absl::MutexLock l(&s.mu);
    s.worker_stop = false;
  }
  absl::Status st = s.driver->Stop();
  if (report != nullptr) {
    absl::Status r = connection_->ReportEpisode(*report);
    if (!r.ok() && st.ok()) st = r;
  }
  absl::Status e = connection_->EndSession();
  if (!e.ok() && st.ok()) st = e;
  return st;
}

}  // namespace mivla::client
