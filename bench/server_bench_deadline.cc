#include "bench/server_bench_deadline.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "bench/robot_stalls.h"
#include "bench/server_bench_load.h"
#include "core/metrics/text_format.h"
#include "core/util/quantile.h"
#include "mivla/v1/policy.grpc.pb.h"
#include "server/inference/test_requests.h"

namespace mivla::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Shared {
  absl::Mutex mu;
  int ready ABSL_GUARDED_BY(mu) = 0;
  int started ABSL_GUARDED_BY(mu) = 0;
  DeadlineLoadResult result ABSL_GUARDED_BY(mu);
  std::vector<double> round_trips_ms ABSL_GUARDED_BY(mu);
  absl::Notification go;
  Clock::time_point epoch;         // robot time 1 s; written before `go`
  Clock::time_point window_start;  // written before `go`
  Clock::time_point window_end;
};

int64_t RobotUs(const Shared& sh, Clock::time_point t) {
  return 1000000 + std::chrono::duration_cast<std::chrono::microseconds>(t - sh.epoch).count();
}

// One robot's outcome of one request, added to the shared result when it lies in the window.
void Record(Shared* sh, int rate, bool in_window, const grpc::Status& s, bool late, double rt_ms) {
  if (!in_window) return;
  absl::MutexLock lock(&sh->mu);
  DeadlineLoadResult& r = sh->result;
  ++r.requests;
  RateMisses& m = r.by_rate[rate];
  ++m.requests;
  const bool miss = !s.ok() || late;
  r.misses += miss;
  m.misses += miss;
  if (s.ok()) {
    r.late += late;
    sh->round_trips_ms.push_back(rt_ms);
  } else if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    ++r.dropped;
  } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    ++r.refused;
  } else {
    ++r.other_errors;
    if (r.first_error.empty()) r.first_error = absl::StrCat(s.error_code(), " ", s.error_message());
  }
}

// One robot's time without actions inside the window, added when it stops.
void RecordStalls(Shared* sh, int rate, double stalled_s, double longest_s) {
  absl::MutexLock lock(&sh->mu);
  RateMisses& m = sh->result.by_rate[rate];
  ++m.robots;
  m.stalled_s += stalled_s;
  sh->result.longest_stall_ms = std::max(sh->result.longest_stall_ms, 1000 * longest_s);
}

// A robot's session and the observations it cycles through; session_id is empty when StartSession failed.
struct RobotSession {
  std::unique_ptr<mivla::v1::PolicyService::Stub> stub;
  std::string session_id;
  int chunk_steps = 0;
  std::vector<mivla::v1::ObserveRequest> observations;
};

// Starts robot `index`'s session and reports it ready (and whether it started) to `sh`.
RobotSession StartRobot(const DeadlineLoadOptions& o, int index, double rate, Shared* sh) {
  const action::Embodiment e = o.embodiments[index % o.embodiments.size()];
  RobotSession robot;
  robot.stub = RobotStub(o.port);
  mivla::v1::StartSessionRequest req = server::testing::StartRequest(e);
  req.set_control_rate_hz(rate);
  mivla::v1::StartSessionResponse started;
  grpc::Status s = robot.stub->StartSession(CallContext(o.call_timeout_s).get(), req, &started);
  if (s.ok()) {
    robot.session_id = started.session_id();
    robot.chunk_steps = static_cast<int>(started.action_horizon());
    for (int k = 0; k < 4; ++k) {
      robot.observations.push_back(
          server::testing::ObserveFor(e, robot.session_id, static_cast<uint64_t>(index * 1000 + k + 1)));
    }
  }
  absl::MutexLock lock(&sh->mu);
  ++sh->ready;
  if (s.ok()) ++sh->started;
  if (!s.ok() && sh->result.first_error.empty()) sh->result.first_error = "StartSession: " + s.error_message();
  return robot;
}

void RunRobot(const DeadlineLoadOptions& o, int index, Shared* sh) {
  const double rate = o.rates_hz[index % o.rates_hz.size()];
  const int rate_key = static_cast<int>(std::lround(rate));
  RobotSession robot = StartRobot(o, index, rate, sh);
  sh->go.WaitForNotification();
  if (robot.session_id.empty()) return;
  const int exec = std::max(1, std::min(o.exec_steps, robot.chunk_steps));
  const int lead = std::clamp(o.lead_steps, 0, exec - 1);
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  Clock::time_point run_out = Clock::now();  // no actions yet
  StallClock stalls(sh->window_start, sh->window_end);
  uint64_t iteration = 0;
  while (Clock::now() < sh->window_end) {
    const Clock::time_point ask_at = run_out - lead * period;
    if (ask_at > Clock::now()) std::this_thread::sleep_until(ask_at);
    if (Clock::now() >= sh->window_end) break;
    const Clock::time_point t_obs = Clock::now();
    const bool in_window = t_obs >= sh->window_start;
    mivla::v1::ObserveRequest& obs = robot.observations[iteration % robot.observations.size()];
    ++iteration;
    const int64_t now_us = RobotUs(*sh, t_obs);
    obs.set_timestamp_us(now_us);
    for (auto& im : *obs.mutable_images()) im.set_capture_time_us(now_us);
    mivla::v1::ObserveResponse observed;
    grpc::Status s = robot.stub->Observe(CallContext(o.call_timeout_s).get(), obs, &observed);
    if (s.ok()) {
      mivla::v1::ActRequest act;
      act.set_session_id(robot.session_id);
      act.set_observation_id(observed.observation_id());
      act.set_seed(iteration);
      act.set_deadline_us(std::max<int64_t>(1, RobotUs(*sh, run_out)));
      mivla::v1::ActResponse chunk;
      s = robot.stub->Act(CallContext(o.call_timeout_s).get(), act, &chunk);
    }
    const Clock::time_point t_resp = Clock::now();
    const double rt_ms = std::chrono::duration<double, std::milli>(t_resp - t_obs).count();
    Record(sh, rate_key, in_window, s, s.ok() && t_resp > run_out, rt_ms);
    if (s.ok()) {
      const Clock::time_point new_run_out = std::max(t_resp, t_obs + exec * period);
      stalls.OnChunk(run_out, t_resp, new_run_out);  // failures before this answer extend the stall
      run_out = new_run_out;
    } else if (s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // refused or broken: back off a little
    }
  }
  stalls.Close(run_out);
  RecordStalls(sh, rate_key, stalls.total_s(), stalls.longest_s());
  mivla::v1::EndSessionRequest end;
  end.set_session_id(robot.session_id);
  mivla::v1::EndSessionResponse ended;
  robot.stub->EndSession(CallContext(o.call_timeout_s).get(), end, &ended);
}

}  // namespace

double RobotRequestsPerSecond(const DeadlineLoadOptions& o, double rate_hz) {
  const int gap = std::max(1, o.exec_steps - o.lead_steps);
  return rate_hz / gap;
}

absl::StatusOr<DeadlineLoadResult> RunDeadlineLoad(const DeadlineLoadOptions& o) {
  if (o.robots < 1 || o.rates_hz.empty() || o.embodiments.empty() || o.duration_s <= 0 || o.exec_steps < 1) {
    return absl::InvalidArgumentError(absl::StrCat("RunDeadlineLoad: bad options (robots ", o.robots, ")"));
  }
  Shared sh;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.robots; ++i) threads.emplace_back(RunRobot, std::cref(o), i, &sh);
  {
    absl::MutexLock lock(&sh.mu);
    const int want = o.robots;
    auto all_ready = [&sh, want]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sh.mu) { return sh.ready == want; };
    sh.mu.Await(absl::Condition(&all_ready));
  }
  sh.epoch = Clock::now();
  sh.window_start = sh.epoch + std::chrono::microseconds(static_cast<int64_t>(o.warmup_s * 1e6));
  sh.window_end = sh.window_start + std::chrono::microseconds(static_cast<int64_t>(o.duration_s * 1e6));
  sh.go.Notify();
  std::string at_start, at_end;
  bool any_started = false;
  {
    absl::MutexLock lock(&sh.mu);
    any_started = sh.started > 0;
  }
  const bool scrape = o.scrape && any_started;
  if (scrape) {
    std::this_thread::sleep_until(sh.window_start);
    at_start = o.scrape();
    std::this_thread::sleep_until(sh.window_end);
    at_end = o.scrape();
  }
  for (auto& t : threads) t.join();
  absl::MutexLock lock(&sh.mu);
  if (sh.started == 0) return absl::UnavailableError("no robot could start a session: " + sh.result.first_error);
  DeadlineLoadResult r = sh.result;
  r.robots = o.robots;
  for (int i = 0; i < o.robots; ++i) r.offered_per_s += RobotRequestsPerSecond(o, o.rates_hz[i % o.rates_hz.size()]);
  r.served_per_s = static_cast<double>(sh.round_trips_ms.size()) / o.duration_s;
  r.miss_rate = r.requests > 0 ? static_cast<double>(r.misses) / static_cast<double>(r.requests) : 0;
  r.p50_ms = Quantile(sh.round_trips_ms, 0.50);
  r.p99_ms = Quantile(sh.round_trips_ms, 0.99);
  double stalled_s = 0;
  for (auto& [hz, m] : r.by_rate) {
    m.stalled_share = m.robots > 0 ? m.stalled_s / (m.robots * o.duration_s) : 0.0;
    stalled_s += m.stalled_s;
  }
  r.stalled_share = stalled_s / (static_cast<double>(sh.started) * o.duration_s);
  if (scrape) {
    const auto delta = [&](const char* sample) {
      const std::optional<double> a = metrics::SampleValue(at_start, sample);
      const std::optional<double> b = metrics::SampleValue(at_end, sample);
      return a && b ? *b - *a : -1.0;
    };
    r.server_late_acts = delta("mivla_late_acts_total");
    const double batches = delta(R"(mivla_batch_size_count{stage="decode"})");
    const double tasks = delta(R"(mivla_batch_size_sum{stage="decode"})");
    if (batches > 0 && tasks >= 0) r.server_decode_batch_mean = tasks / batches;
  }
  return r;
}

namespace {

nlohmann::json RowJson(double load, const std::string& policy, const DeadlineLoadResult& r) {
  nlohmann::json by_rate = nlohmann::json::object();
  for (const auto& [hz, m] : r.by_rate) {
    by_rate[std::to_string(hz)] = {{"requests", m.requests},
                                   {"misses", m.misses},
                                   {"miss_rate", m.requests > 0 ? static_cast<double>(m.misses) / m.requests : 0.0},
                                   {"robots", m.robots},
                                   {"stalled_share", m.stalled_share}};
  }
  return {{"load", load},
          {"policy", policy},
          {"robots", r.robots},
          {"offered_per_s", r.offered_per_s},
          {"served_per_s", r.served_per_s},
          {"requests", r.requests},
          {"misses", r.misses},
          {"miss_rate", r.miss_rate},
          {"late", r.late},
          {"dropped", r.dropped},
          {"refused", r.refused},
          {"other_errors", r.other_errors},
          {"first_error", r.first_error},
          {"p50_ms", r.p50_ms},
          {"p99_ms", r.p99_ms},
          {"by_rate_hz", by_rate},
          {"stalled_share", r.stalled_share},
          {"longest_stall_ms", r.longest_stall_ms},
          {"server_late_acts", r.server_late_acts},
          {"server_decode_batch_mean", r.server_decode_batch_mean}};
}

}  // namespace

absl::StatusOr<nlohmann::json> RunDeadlineSweep(const DeadlineSweepOptions& o, const StartServerFn& start) {
  if (!(o.capacity_per_s > 0)) return absl::FailedPreconditionError("deadline sweep: no capacity measured");
  DeadlineLoadOptions lo;
  lo.warmup_s = o.warmup_s;
  lo.duration_s = o.duration_s;
  lo.embodiments = o.embodiments;
  double per_robot = 0;  // mean offered requests per second of one robot over the rate mix
  for (double hz : lo.rates_hz) per_robot += RobotRequestsPerSecond(lo, hz) / static_cast<double>(lo.rates_hz.size());
  nlohmann::json out;
  out["capacity_per_s"] = o.capacity_per_s;
  out["robot_model"] = {{"rates_hz", lo.rates_hz},
                        {"exec_steps", lo.exec_steps},
                        {"lead_steps", lo.lead_steps},
                        {"mean_requests_per_s_per_robot", per_robot}};
  out["rows"] = nlohmann::json::array();
  out["edf_over_fifo_misses"] = nlohmann::json::array();
  int point = 0;
  const int points = static_cast<int>(o.loads.size()) * 2;
  for (double load : o.loads) {
    lo.robots = std::max(1, static_cast<int>(std::lround(load * o.capacity_per_s / per_robot)));
    double fifo_rate = -1, edf_rate = -1;
    for (const char* policy : {"fifo", "edf"}) {
      std::fprintf(stderr, "[deadline %d/%d] load %.2f x capacity, %d robots (10/25/50 Hz), batch policy %s ...\n",
                   ++point, points, load, lo.robots, policy);
      absl::StatusOr<BenchServer> server = start(policy);
      if (!server.ok()) return server.status();
      lo.port = server->port;
      lo.scrape = server->scrape;
      absl::StatusOr<DeadlineLoadResult> r = RunDeadlineLoad(lo);
      server->stop();
      if (!r.ok()) return r.status();
      std::fprintf(
          stderr,
          "      %lld requests, %lld missed (%.1f%%: %lld late, %lld dropped, %lld refused), %.1f chunks/s, p50 %.0f "
          "ms; stalled %.1f%% of robot-time (longest %.0f ms); server: %.0f late Acts, decode batch %.1f\n",
          static_cast<long long>(r->requests), static_cast<long long>(r->misses), 100 * r->miss_rate,  // NOLINT
          static_cast<long long>(r->late), static_cast<long long>(r->dropped),                         // NOLINT
          static_cast<long long>(r->refused), r->served_per_s, r->p50_ms, 100 * r->stalled_share,      // NOLINT
          r->longest_stall_ms, r->server_late_acts, r->server_decode_batch_mean);
      (std::string(policy) == "fifo" ? fifo_rate : edf_rate) = r->miss_rate;
      out["rows"].push_back(RowJson(load, policy, *r));
    }
    nlohmann::json t = {{"load", load}, {"fifo_miss_rate", fifo_rate}, {"edf_miss_rate", edf_rate}, {"limit", 0.5}};
    if (fifo_rate > 0) {
      t["ratio"] = edf_rate / fifo_rate;
      t["pass"] = edf_rate / fifo_rate <= 0.5;
    } else {
      t["ratio"] = nullptr;
      t["pass"] = nullptr;
      t["note"] = "FIFO missed nothing at this load";
    }
    out["edf_over_fifo_misses"].push_back(t);
  }
  return out;
}

}  // namespace mivla::bench
