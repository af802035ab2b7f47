// File: server_bench_load.h
// Closed-loop gRPC load for mivla-bench-server: one client thread per simulated robot session, each
// with its own channel (own TCP connection) to 127.0.0.1:port, looping Observe then Act with one
// outstanding request per session. Sessions cycle through the embodiments given. Observations are
// JPEG-encoded before the clock starts so the clients' own encoding does not compete with the server.
//
// Ownership: RunLoad owns its threads and channels and joins them before returning.
// Thread-safety: RunLoad may be called from any thread; calls are independent.
#ifndef MIVLA_BENCH_SERVER_BENCH_LOAD_H_
#define MIVLA_BENCH_SERVER_BENCH_LOAD_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "mivla/v1/policy.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace mivla::bench {

struct LoadOptions {
  int port = 0;
  int sessions = 1;
  double warmup_s = 1.5;    // closed-loop traffic before the measuring window opens
  double duration_s = 6.0;  // length of the measuring window; it stays open longer until one pair per
                            // session has ended in it, so a row always has figures on a loaded machine
  int distinct_observations = 4;  // per session, cycled (different image content and proprioception)
  std::vector<action::Embodiment> embodiments;  // session i gets embodiments[i % size]
  double call_timeout_s = 60.0;
  std::string bearer_token;  // sent as `authorization: Bearer <token>` when set (a server with --token-file)
};

/// Means over the measured pairs of what the server reported in ServerTiming.
struct ServerBreakdown {
  double observe_total_ms = 0;  // Observe: arrival -> response ready, on the server
  double act_total_ms = 0;
  double encode_queue_ms = 0;   // Observe's queue_us
  double decode_queue_ms = 0;   // Act's queue_us
  double encode_ms = 0;         // image decode + preprocessing + encoders, per batch
  double decode_ms = 0;         // K-step sampler, per batch
  double encode_batch = 0;      // mean batch size the request ran in
  double decode_batch = 0;
  double outside_server_ms = 0; // round trip minus both server totals: gRPC, network stack, client
};

/// The means' JSON (ms): observe_total, act_total, encode_queue, decode_queue, encode, decode, outside_server.
nlohmann::json ServerMeansJson(const ServerBreakdown& b);

/// What a robot thread records of its measured pairs: each round trip (4 bytes a pair, exact to well
/// under a microsecond at these latencies, for the quantiles) and running sums of the server's timings.
/// A 30-minute soak holds every pair of its phase, and the soak reads this process's memory: keeping each
/// pair's two ServerTiming messages as well (about 200 bytes with the vectors' spare capacity) grew the
/// heap by about 19 MiB over a 30-minute phase of tiny's model (100,000 pairs), in steps as the vectors
/// doubled, and the soak counted it as the server's.
struct PairTally {
  std::vector<float> round_trips_ms;
  double sum_ms = 0;
  ServerBreakdown sums;  // sums over the pairs (outside_server_ms unused)

  void Add(double round_trip_ms, const mivla::v1::ServerTiming& observe, const mivla::v1::ServerTiming& act);
  void Merge(const PairTally& other);
  double MeanMs() const;                  // 0 without pairs
  ServerBreakdown MeanBreakdown() const;  // means; outside_server_ms = MeanMs() - both server totals

  // Every field but outside_server_ms (derived) is summed: a new field must join kBreakdownFields and Add.
  static constexpr double ServerBreakdown::*kBreakdownFields[] = {
      &ServerBreakdown::observe_total_ms, &ServerBreakdown::act_total_ms, &ServerBreakdown::encode_queue_ms,
      &ServerBreakdown::decode_queue_ms,  &ServerBreakdown::encode_ms,    &ServerBreakdown::decode_ms,
      &ServerBreakdown::encode_batch,     &ServerBreakdown::decode_batch};
};
static_assert(sizeof(ServerBreakdown) == 9 * sizeof(double));

/// One session's own pace over the window: its pairs' end times, first and last, and how many.
struct SessionPace {
  std::chrono::steady_clock::time_point first, last;
  int64_t pairs = 0;

  void Add(std::chrono::steady_clock::time_point end) {
    if (pairs++ == 0) first = end;
    last = end;
  }
  /// (pairs - 1) / (last - first) in pairs per second: the pairs after the first over the time they took;
  /// 0 with fewer than two pairs (no span to divide by).
  double PerSecond() const {
    const double span_s = std::chrono::duration<double>(last - first).count();
    return pairs >= 2 && span_s > 0 ? static_cast<double>(pairs - 1) / span_s : 0;
  }
};

struct LoadResult {
  int sessions = 0;
  int64_t completed = 0;   // Observe+Act pairs that ended inside the window
  double window_s = 0;     // duration_s, or longer when the window was held open (see duration_s)
  double chunks_per_s = 0;  // completed / window_s
  // The sum of each session's own rate between its first and last pair in the window (SessionPace):
  // free of the window's edges, where chunks_per_s counts whole batches in or out (a batch of 16 ends 16
  // pairs at once, and a 3-second window holds about 11 of tiny's on 2 CPUs). 0 when a started session
  // ended fewer than two pairs in the window or a call failed (a session that stops early would count as
  // if it had run on); sessions that could not start count in neither figure.
  double paced_chunks_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
  int64_t failed_calls = 0;
  std::string first_error;  // empty when every call succeeded
  ServerBreakdown server;
};

/// The embodiments the benchmark's robots take in turn: piper, arx5, aloha, locoman, human.
std::vector<action::Embodiment> BenchEmbodiments();

/// A channel of its own (its own TCP connection, not gRPC's shared subchannel) to 127.0.0.1:port, with
/// 64 MiB message limits: what the benchmark's clients, robots and the soak's hostile one, talk over.
std::shared_ptr<grpc::Channel> RobotChannel(int port);
/// A simulated robot's stub on a RobotChannel: what RunLoad's and the deadline rows' robots use.
std::unique_ptr<mivla::v1::PolicyService::Stub> RobotStub(int port);

/// A call's context: a deadline `timeout_s` from now and, when `bearer_token` is set, `authorization:
/// Bearer <token>`.
std::unique_ptr<grpc::ClientContext> CallContext(double timeout_s, const std::string& bearer_token = "");

/// One simulated robot's session, driven one Observe + Act pair at a time: what RunLoad's robot threads
/// and the paired one-robot row (server_bench_paired.h) run.
class PairClient {
 public:
  /// Starts a session for embodiment `e` on its own channel; `index` varies the observations'
  /// content (cycled through `distinct_observations` of them). A failed start as "StartSession: CODE message"
  /// with gRPC's code.
  static absl::StatusOr<std::unique_ptr<PairClient>> Start(int port, action::Embodiment e, int index,
                                                           int distinct_observations, double call_timeout_s,
                                                           const std::string& bearer_token = "");
  ~PairClient();  // ends the session (best effort)
  PairClient(const PairClient&) = delete;
  PairClient& operator=(const PairClient&) = delete;

  struct Pair {
    double round_trip_ms = 0;  // Observe sent -> Act answered
    mivla::v1::ServerTiming observe;
    mivla::v1::ServerTiming act;
  };
  /// Observe the next observation, then Act on it with `seed`. A failed call as "Observe: CODE message"
  /// or "Act: ..." with gRPC's code; an Act answered OK with no steps is an INTERNAL error.
  absl::StatusOr<Pair> Run(uint64_t seed);

 private:
  PairClient() = default;
  std::unique_ptr<mivla::v1::PolicyService::Stub> stub_;
  std::string session_id_;
  std::vector<mivla::v1::ObserveRequest> observations_;
  uint64_t next_ = 0;
  double call_timeout_s_ = 60;
  std::string bearer_token_;
};

/// Runs the load and returns its figures. An error only when no session could be started at all;
/// failed calls during the run are counted in the result (and end that session's loop).
absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_LOAD_H_
