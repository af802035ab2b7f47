// File: server_bench_paired.h
// The one-robot target read against a bare model measured in the same minutes: one robot under a
// server and the bare model (no server) take turns, a round of robot pairs, then as many bare calls,
// and so on. This machine's speed drifts by several percent within a sweep (bare_drift), and a ratio of a
// server row to a bare figure taken minutes earlier carries that drift; alternating puts both sides on
// the same stretch of the machine's speed. The robot runs alone: the bare calls wait for its pair to end,
// so the server idles while the bare model runs and the other way round.
//
//   PairedOptions o; o.port = server->port(); o.rounds = 12;
//   absl::StatusOr<nlohmann::json> j = RunPaired(o, [&] { return BareCallMs(); });
//
// Thread safety: RunPaired runs on the calling thread (the bare function is called from it).
#ifndef MIVLA_BENCH_SERVER_BENCH_PAIRED_H_
#define MIVLA_BENCH_SERVER_BENCH_PAIRED_H_

#include <functional>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace mivla::bench {

struct PairedOptions {
  int port = 0;
  int rounds = 12;    // robot turns (and as many bare turns)
  int per_round = 8;  // Observe + Act pairs per robot turn, bare calls per bare turn
  int warmup = 4;     // of each before the first round, not counted
  double call_timeout_s = 60;
};

/// One bare call's times in ms.
struct BareCall {
  double total_ms = 0;  // encode + sampler
  double encode_ms = 0;
  double sampler_ms = 0;
};
/// One bare encode + decode call (an error stops the run).
using BareCallFn = std::function<absl::StatusOr<BareCall>()>;

/// JSON: rounds, per_round, server_p50_ms and bare_p50_ms (over every counted pair and call),
/// ratio (server_p50_ms / bare_p50_ms), round_ratios (each round's robot p50 over the next bare turn's),
/// round_ratio_median, bare_spread (the bare turns' p50s, min and max over their median), means_ms (the
/// robot's round trip and the server's timings of its calls, the bare calls' encode and sampler: where the
/// difference lies), note. An
/// error when the robot's session cannot start, a call fails, or the options are out of range.
absl::StatusOr<nlohmann::json> RunPaired(const PairedOptions& options, const BareCallFn& bare_call);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_PAIRED_H_
