// File: robot_client.cc
#include "client/robot/robot_client.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/robot/realtime_scope.h"
#include "core/util/log.h"
#include "core/util/status_macros.h"
#include "proto/request_builder.h"

namespace mivla::client {
namespace {

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What a failed chunk request means for the client.
enum class Failure {
  kRefused,  // the server is alive but did not answer this request: overload, a malformed chunk, a
             // deadline (a slow server): retry after a backoff delay, same session
  kLost,     // the channel is down or the server forgot the session: new channel + new session
  kFatal,    // the server refuses this client (credentials): end the run, reconnecting cannot help
};

Failure Classify(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return Failure::kFatal;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDeadlineExceeded:
      return Failure::kRefused;
    default:
      return Failure::kLost;
  }
}

absl::Status FatalError(const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("the policy server refuses this client (", s.ToString(),
                                             "); not reconnecting: check --token-file and the TLS client certificate"));
}

}  // namespace

struct RobotClient::State {
  RobotDriver* driver = nullptr;
  ClientMetrics* metrics = nullptr;
  Options options;
  int64_t period_us = 40000;
  std::unique_ptr<EmbodimentAdapter> adapter;  // the inference side's (worker thread once running)
  std::optional<SafetyLayer> safety;           // the control loop's
  PolicyConnection* conn = nullptr;
  uint64_t requests = 0;
  std::array<int64_t, kNumHoldReasons> holds_seen{};  // the safety layer's hold counts at the last tick

  mutable absl::Mutex mu;
  ChunkScheduler scheduler ABSL_GUARDED_BY(mu){ChunkSchedulerOptions{}};
  PolicyHealth health ABSL_GUARDED_BY(mu);
  std::optional<RobotReading> observation ABSL_GUARDED_BY(mu);  // handed to the worker
  absl::Status fatal ABSL_GUARDED_BY(mu);  // set by the worker: the run must end (credentials refused)
  bool in_flight ABSL_GUARDED_BY(mu) = false;
  bool worker_stop ABSL_GUARDED_BY(mu) = false;
  uint64_t next_chunk_id ABSL_GUARDED_BY(mu) = 1;
  RobotClientStats stats ABSL_GUARDED_BY(mu);
  std::thread worker;

  int64_t Now() const { return driver->simulated_clock() ? driver->NowUs() : WallUs(); }

  void MarkLost(const absl::Status& why) {
    {
      absl::MutexLock l(&mu);
      if (!health.server_connected) return;
      health.server_connected = false;
      ++stats.failed_requests;
    }
    if (metrics != nullptr) metrics->SetConnected(false);
    LogWarning("robot_client", absl::StrCat("policy server lost (", why.ToString(), "); holding and reconnecting"));
  }

  void MarkReconnected() {
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

  // Observe + Act for `reading`, mapped onto the robot and queued.
  absl::Status FetchChunk(const RobotReading& reading) {
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

  // A failed chunk request: counted; a lost server is marked (a deadline only when the channel is down
  // too); a fatal refusal is recorded for the control loop to end the run.
  Failure HandleFailure(const absl::Status& s) {
    Failure kind = Classify(s);
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
      if (fatal.ok()) fatal = FatalError(s);
      LogError("robot_client", std::string(fatal.message()));
    } else {
      LogWarning("robot_client", absl::StrCat("chunk request failed: ", s.ToString()));
    }
    return kind;
  }

  // Simulated clock: a refill in lockstep on the loop's thread (the reading it took goes to `reading`).
  // While the server refuses or is lost it blocks (retrying with backoff, reconnecting) until a chunk
  // arrives, so simulated time never runs on with hold ticks; after `lockstep_give_up_ms` it fails.
  absl::Status LockstepRefill(int64_t now, std::optional<RobotReading>* reading) {
    bool connected, refill;
    {
      absl::MutexLock l(&mu);
      connected = health.server_connected;
      refill = scheduler.NeedsRefill(now);
    }
    if (connected && !conn->ChannelReady()) {
      MarkLost(absl::UnavailableError("the connection to the server closed"));
      connected = false;
    }
    const int64_t give_up_at = WallUs() + 1000 * options.lockstep_give_up_ms;
    Backoff refusals(conn->options().backoff);
    absl::Status last;
    while (!connected || refill) {
      if (!connected) {
        absl::Status r = conn->Reconnect();
        if (r.ok()) {
          MarkReconnected();  // the queue is cleared: a fresh chunk is needed now
          connected = refill = true;
        } else if (Classify(r) == Failure::kFatal) {
          return FatalError(r);
        } else {
          last = r;
        }
      }
      if (connected && refill) {
        if (!reading->has_value()) {
          ASSIGN_OR_RETURN(*reading, driver->Read(true));
        }
        absl::Status f = FetchChunk(**reading);
        if (f.ok()) return absl::OkStatus();
        if (HandleFailure(f) == Failure::kFatal) return FatalError(f);
        last = f;
        absl::MutexLock l(&mu);
        connected = health.server_connected;
      }
      if (WallUs() >= give_up_at) {
        return absl::DeadlineExceededError(absl::StrCat(
            "lockstep: no chunk from the policy server for ", options.lockstep_give_up_ms,
            " ms (the simulation waits for the policy; lockstep_give_up_ms); last error: ", last.ToString()));
      }
      const int64_t delay_ms = connected ? refusals.NextDelayMs() : conn->NextBackoffMs();
      std::this_thread::sleep_for(std::chrono::milliseconds(std::max<int64_t>(
          0, std::min<int64_t>(delay_ms, (give_up_at - WallUs()) / 1000 + 1))));
    }
    return absl::OkStatus();
  }

  // Statistics and metrics of one tick; hold episodes are counted as the safety layer counts them.
  void Account(const SafetyDecision& dec, int64_t start) {
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

  bool Stopping() {
    absl::MutexLock l(&mu);
    return worker_stop;
  }

  // Worker (wall clock): serves observations, watches the channel, reconnects.
  void WorkerLoop() {
    // While idle the worker waits on the channel (driving its I/O, so a server that goes away is
    // noticed within this poll even with no call in flight), then looks for an observation.
    const int64_t poll_us = std::max<int64_t>(1000, std::min<int64_t>(5000, period_us / 8));
    Backoff refusals(conn->options().backoff);  // paces requests after a refusal
    while (true) {
      std::optional<RobotReading> obs;
      bool connected;
      {
        absl::MutexLock l(&mu);
        if (worker_stop) return;
        obs.swap(observation);
        connected = health.server_connected;
      }
      if (connected && !obs.has_value()) {
        if (!conn->WaitWhileReady(poll_us)) MarkLost(absl::UnavailableError("the connection to the server closed"));
        continue;
      }
      if (connected && obs.has_value()) {
        absl::Status s = FetchChunk(*obs);
        if (s.ok()) {
          refusals.Reset();
        } else {
          const Failure kind = HandleFailure(s);
          if (kind == Failure::kFatal) return;  // the control loop ends the run
          if (kind == Failure::kRefused) {  // overload, bad chunk, deadline: wait before asking again
            absl::MutexLock l(&mu);
            mu.AwaitWithTimeout(absl::Condition(&worker_stop), absl::Milliseconds(refusals.NextDelayMs()));
          }
        }
      }
      {
        absl::MutexLock l(&mu);
        in_flight = false;
        connected = health.server_connected;
      }
      while (!connected && !Stopping()) {
        const int64_t delay_ms = conn->NextBackoffMs();
        {
          absl::MutexLock l(&mu);
          mu.AwaitWithTimeout(absl::Condition(&worker_stop), absl::Milliseconds(delay_ms));
          if (worker_stop) return;
        }
        absl::Status r = conn->Reconnect();
        if (r.ok()) {
          MarkReconnected();
          connected = true;
        } else if (Classify(r) == Failure::kFatal) {
          absl::MutexLock l(&mu);
          if (fatal.ok()) fatal = FatalError(r);
          LogError("robot_client", std::string(fatal.message()));
          return;
        }
      }
    }
  }
};

RobotClient::RobotClient(std::unique_ptr<State> state, std::unique_ptr<PolicyConnection> connection)
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
  auto st = std::make_unique<State>();
  st->driver = driver;
  st->metrics = metrics;
  st->period_us = static_cast<int64_t>(std::llround(driver->control_period_s() * 1e6));
  if (st->period_us <= 0) return absl::InvalidArgumentError("RobotClient: the driver's control period is not positive");
  options.scheduler.period_us = st->period_us;
  options.safety.period_us = st->period_us;
  if (options.adapter.mode == RetargetMode::kAuto) {
    ASSIGN_OR_RETURN(mivla::v1::GetPolicyInfoResponse info, connection->GetPolicyInfo());
    std::vector<action::Embodiment> served;
    for (int e : info.embodiments()) {
      absl::StatusOr<action::Embodiment> t = request::EmbodimentFromProto(e, "GetPolicyInfo.embodiments");
      if (t.ok()) served.push_back(*t);
    }
    ASSIGN_OR_RETURN(options.adapter, ResolveRetarget(options.adapter, driver->embodiment(), served));
    LogInfo("robot_client", absl::StrCat("model ", info.model_version(), ": retarget mode ",
                                         RetargetModeName(options.adapter.mode), ", session embodiment ",
                                         std::string(action::EmbodimentName(*options.adapter.session_embodiment))));
  }
  ASSIGN_OR_RETURN(st->adapter, EmbodimentAdapter::Create(driver->embodiment(), options.adapter));
  ASSIGN_OR_RETURN(SafetyLayer safety, SafetyLayer::Create(driver->embodiment(), options.safety));
  st->safety.emplace(std::move(safety));
  {
    absl::MutexLock l(&st->mu);
    st->scheduler = ChunkScheduler(options.scheduler);
  }
  st->options = std::move(options);
  return std::unique_ptr<RobotClient>(new RobotClient(std::move(st), std::move(connection)));
}

absl::Status RobotClient::StartSession() {
  State& s = *state_;
  request::SessionSpec spec;
  spec.embodiment = s.adapter->session_embodiment();
  for (const CameraLayout& c : s.driver->cameras()) spec.cameras.push_back({c.name, c.width, c.height});
  spec.instruction = s.options.instruction;
  spec.task = s.options.task;
  spec.robot_id = s.options.robot_id;
  spec.control_rate_hz = 1.0 / s.driver->control_period_s();
  ASSIGN_OR_RETURN(mivla::v1::StartSessionResponse r, connection_->StartSession(request::BuildStartSession(spec)));
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
  State& s = *state_;
  RobotDriver& d = *s.driver;
  const bool lockstep = d.simulated_clock();
  RETURN_IF_ERROR(d.Start());
  ASSIGN_OR_RETURN(RobotReading first, d.Read(/*with_images=*/!lockstep && s.options.wait_for_first_chunk));
  s.safety->Reset(first);
  s.adapter->Reset(first);
  if (!lockstep && s.options.wait_for_first_chunk) {
    absl::Status f = s.FetchChunk(first);
    if (!f.ok() && s.HandleFailure(f) == Failure::kFatal) return FatalError(f);
  }
  if (!lockstep && !s.worker.joinable()) s.worker = std::thread([&s] { s.WorkerLoop(); });
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
    if (lockstep) RETURN_IF_ERROR(s.LockstepRefill(now, &reading));
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
    SafetyDecision dec = s.safety->Filter(now, action, health);
    RETURN_IF_ERROR(d.Command(dec.command));
    s.Account(dec, start);
    if (on_tick) {
      TickInfo info{k, now, dec.hold, dec.clamps, &*reading, &dec.command};
      if (!on_tick(info)) break;
    }
  }
  return absl::OkStatus();
}

absl::Status RobotClient::Finish(const mivla::v1::ReportEpisodeRequest* report) {
  State& s = *state_;
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
