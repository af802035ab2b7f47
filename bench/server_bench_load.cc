#include "bench/server_bench_load.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/util/atomic_extremes.h"
#include "core/util/quantile.h"
#include "mivla/v1/policy.grpc.pb.h"
#include "server/inference/test_requests.h"

namespace mivla::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Shared {
  absl::Mutex mu;
  PairTally tally ABSL_GUARDED_BY(mu);
  int64_t failed ABSL_GUARDED_BY(mu) = 0;
  std::string first_error ABSL_GUARDED_BY(mu);
  int started ABSL_GUARDED_BY(mu) = 0;
  int ready ABSL_GUARDED_BY(mu) = 0;  // threads that finished setup (started a session or gave up)
  int expected ABSL_GUARDED_BY(mu) = 0;
  absl::Notification go;
  Clock::time_point window_start;  // written before `go` is notified
  std::atomic<Clock::rep> window_end{0};  // moves later while fewer than min_pairs pairs are in
  std::atomic<int64_t> in_window{0};
  int64_t min_pairs = 1;  // one per session, written before `go`
  double paced_sum ABSL_GUARDED_BY(mu) = 0;  // sessions' own rates (LoadResult::paced_chunks_per_s)
  int unpaced ABSL_GUARDED_BY(mu) = 0;       // started sessions without a pace (fewer than two pairs, or failed)

  Clock::time_point WindowEnd() const { return Clock::time_point(Clock::duration(window_end.load())); }
  // Counts a pair that ended at t1; true when it belongs to the window.
  bool Count(Clock::time_point t1) {
    if (t1 < window_start) return false;
    if (t1 > WindowEnd()) {
      if (in_window.load() >= min_pairs) return false;
      // Too few pairs so far: hold the window open until this one.
      AtomicMax(&window_end, t1.time_since_epoch().count());
    }
    ++in_window;
    return true;
  }
  bool Done(Clock::time_point now) const { return now >= WindowEnd() && in_window.load() >= min_pairs; }

  void Fail(const std::string& what) {
    absl::MutexLock lock(&mu);
    ++failed;
    if (first_error.empty()) first_error = what;
  }
};

// A failed call as "RPC: CODE message", with gRPC's code as the status code.
absl::Status CallError(const char* rpc, const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(rpc, ": ", s.error_code(), " ", s.error_message()));
}

void RunSession(const LoadOptions& o, int index, Shared* shared) {
  const action::Embodiment e = o.embodiments[index % o.embodiments.size()];
  absl::StatusOr<std::unique_ptr<PairClient>> robot =
      PairClient::Start(o.port, e, index, o.distinct_observations, o.call_timeout_s, o.bearer_token);
  if (!robot.ok()) shared->Fail(std::string(robot.status().message()));
  {
    absl::MutexLock lock(&shared->mu);
    ++shared->ready;
    if (robot.ok()) ++shared->started;
  }
  shared->go.WaitForNotification();
  if (!robot.ok()) return;

  PairTally mine;
  SessionPace pace;  // of the pairs counted in the window
  bool failed = false;
  uint64_t iteration = 0;
  while (!shared->Done(Clock::now())) {
    absl::StatusOr<PairClient::Pair> pair = (*robot)->Run(++iteration);
    if (!pair.ok()) {
      shared->Fail(std::string(pair.status().message()));
      failed = true;
      break;
    }
    // A pair counts when it ends inside the window (unbiased throughput in steady state).
    const Clock::time_point t1 = Clock::now();
    if (!shared->Count(t1)) continue;
    pace.Add(t1);
    mine.Add(pair->round_trip_ms, pair->observe, pair->act);
  }
  robot->reset();  // ends the session; the server restarts anyway
  absl::MutexLock lock(&shared->mu);
  shared->tally.Merge(mine);
  const double rate = failed ? 0 : pace.PerSecond();
  if (rate > 0) {
    shared->paced_sum += rate;
  } else {
    ++shared->unpaced;
  }
}

}  // namespace

std::vector<action::Embodiment> BenchEmbodiments() {
  return {action::Embodiment::kPiper, action::Embodiment::kArx5, action::Embodiment::kAlohaAgilex,
          action::Embodiment::kLocoman, action::Embodiment::kHuman};
}

std::shared_ptr<grpc::Channel> RobotChannel(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one TCP connection per client
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<mivla::v1::PolicyService::Stub> RobotStub(int port) {
  return mivla::v1::PolicyService::NewStub(RobotChannel(port));
}

std::unique_ptr<grpc::ClientContext> CallContext(double timeout_s, const std::string& bearer_token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::microseconds(static_cast<int64_t>(timeout_s * 1e6)));
  if (!bearer_token.empty()) ctx->AddMetadata("authorization", "Bearer " + bearer_token);
  return ctx;
}

nlohmann::json ServerMeansJson(const ServerBreakdown& b) {
  return {{"observe_total", b.observe_total_ms},  {"act_total", b.act_total_ms}, {"encode_queue", b.encode_queue_ms},
          {"decode_queue", b.decode_queue_ms},    {"encode", b.encode_ms},       {"decode", b.decode_ms},
          {"outside_server", b.outside_server_ms}};
}

void PairTally::Add(double round_trip_ms, const mivla::v1::ServerTiming& observe, const mivla::v1::ServerTiming& act) {
  round_trips_ms.push_back(static_cast<float>(round_trip_ms));
  sum_ms += round_trip_ms;
  sums.observe_total_ms += observe.total_us() * 1e-3;
  sums.act_total_ms += act.total_us() * 1e-3;
  sums.encode_queue_ms += observe.queue_us() * 1e-3;
  sums.decode_queue_ms += act.queue_us() * 1e-3;
  sums.encode_ms += observe.encode_us() * 1e-3;
  sums.decode_ms += act.decode_us() * 1e-3;
  sums.encode_batch += observe.encode_batch_size();
  sums.decode_batch += act.decode_batch_size();
}

void PairTally::Merge(const PairTally& other) {
  round_trips_ms.insert(round_trips_ms.end(), other.round_trips_ms.begin(), other.round_trips_ms.end());
  sum_ms += other.sum_ms;
  for (auto field : kBreakdownFields) sums.*field += other.sums.*field;
}

double PairTally::MeanMs() const {
  return round_trips_ms.empty() ? 0 : sum_ms / static_cast<double>(round_trips_ms.size());
}

ServerBreakdown PairTally::MeanBreakdown() const {
  ServerBreakdown b;
  if (round_trips_ms.empty()) return b;
  const double n = static_cast<double>(round_trips_ms.size());
  for (auto field : kBreakdownFields) b.*field = sums.*field / n;
  b.outside_server_ms = MeanMs() - b.observe_total_ms - b.act_total_ms;
  return b;
}

absl::StatusOr<std::unique_ptr<PairClient>> PairClient::Start(int port, action::Embodiment e, int index,
                                                              int distinct_observations, double call_timeout_s,
                                                              const std::string& bearer_token) {
  std::unique_ptr<PairClient> c(new PairClient());
  c->stub_ = RobotStub(port);
  c->call_timeout_s_ = call_timeout_s;
  c->bearer_token_ = bearer_token;
  mivla::v1::StartSessionResponse started;
  grpc::Status s = c->stub_->StartSession(CallContext(call_timeout_s, bearer_token).get(),
                                          server::testing::StartRequest(e), &started);
  if (!s.ok()) return CallError("StartSession", s);
  c->session_id_ = started.session_id();
  for (int k = 0; k < std::max(1, distinct_observations); ++k) {
    c->observations_.push_back(
        server::testing::ObserveFor(e, c->session_id_, static_cast<uint64_t>(index * 1000 + k + 1)));
  }
  return c;
}

PairClient::~PairClient() {
  if (session_id_.empty()) return;  // StartSession failed: nothing to end
  mivla::v1::EndSessionRequest end;
  end.set_session_id(session_id_);
  mivla::v1::EndSessionResponse ended;
  stub_->EndSession(CallContext(call_timeout_s_, bearer_token_).get(), end, &ended);  // best effort
}

absl::StatusOr<PairClient::Pair> PairClient::Run(uint64_t seed) {
  Pair pair;
  const Clock::time_point t0 = Clock::now();
  mivla::v1::ObserveResponse obs;
  grpc::Status s = stub_->Observe(CallContext(call_timeout_s_, bearer_token_).get(),
                                  observations_[next_++ % observations_.size()], &obs);
  if (!s.ok()) return CallError("Observe", s);
  mivla::v1::ActRequest act_req;
  act_req.set_session_id(session_id_);
  act_req.set_seed(seed);
  mivla::v1::ActResponse act;
  s = stub_->Act(CallContext(call_timeout_s_, bearer_token_).get(), act_req, &act);
  if (!s.ok()) return CallError("Act", s);
  if (act.chunk().steps_size() == 0) return absl::InternalError("Act: OK but the chunk has no steps");
  pair.round_trip_ms = Ms(Clock::now() - t0);
  pair.observe = obs.timing();
  pair.act = act.timing();
  return pair;
}

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& o) {
  if (o.sessions < 1 || o.embodiments.empty() || o.duration_s <= 0 || o.warmup_s < 0 ||
      o.distinct_observations < 1) {
    return absl::InvalidArgumentError(absl::StrCat("RunLoad: bad options (sessions ", o.sessions, ", duration_s ",
                                                   o.duration_s, ", warmup_s ", o.warmup_s, ")"));
  }
  Shared shared;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.sessions; ++i) threads.emplace_back(RunSession, std::cref(o), i, &shared);
  {
    absl::MutexLock lock(&shared.mu);
    shared.expected = o.sessions;
    shared.mu.Await(absl::Condition(+[](Shared* s) { return s->ready == s->expected; }, &shared));
  }
  const auto warmup = std::chrono::microseconds(static_cast<int64_t>(o.warmup_s * 1e6));
  const auto duration = std::chrono::microseconds(static_cast<int64_t>(o.duration_s * 1e6));
  shared.window_start = Clock::now() + warmup;
  shared.window_end = (shared.window_start + duration).time_since_epoch().count();
  shared.min_pairs = o.sessions;
  shared.go.Notify();
  for (auto& t : threads) t.join();

  absl::MutexLock lock(&shared.mu);
  if (shared.started == 0) {
    return absl::UnavailableError(absl::StrCat("no session could be started: ", shared.first_error));
  }
  LoadResult r;
  r.sessions = o.sessions;
  r.window_s = std::chrono::duration<double>(shared.WindowEnd() - shared.window_start).count();
  const PairTally& t = shared.tally;
  r.completed = static_cast<int64_t>(t.round_trips_ms.size());
  r.chunks_per_s = static_cast<double>(r.completed) / r.window_s;
  r.paced_chunks_per_s = shared.unpaced == 0 ? shared.paced_sum : 0;
  r.failed_calls = shared.failed;
  r.first_error = shared.first_error;
  const std::vector<double> rt(t.round_trips_ms.begin(), t.round_trips_ms.end());
  r.mean_ms = t.MeanMs();
  r.server = t.MeanBreakdown();
  r.p50_ms = Quantile(rt, 0.50);
  r.p99_ms = Quantile(rt, 0.99);
  return r;
}

}  // namespace mivla::bench
