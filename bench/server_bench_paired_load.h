// File: server_bench_paired_load.h
// The 16-session throughput target (batched >= 2 x unbatched) read in turns: a batched and an unbatched
// server, both up, take turns under the same closed-loop robots (RunLoad), and the bare model runs a batch
// of 16 and single samples between the turns, so the ratio and the model's own bound (16 x one sample's
// time over a batch of 16's) come from the same minutes. The sweep's two 16-session rows run a minute or
// more apart, and this machine's speed drifts by several percent in that time (bare_drift); an unbatched
// row that ran slow made the sweep's ratio read above the model's own bound (2.43 against 2.27).
// Turns go batched, unbatched in even rounds and unbatched, batched in odd ones, so a steady drift
// weighs on both sides alike (with an even number of rounds; an odd one gives the batched server the
// first turn once more). Throughput is LoadResult::paced_chunks_per_s (each session's own rate, free
// of the window's edges), or chunks_per_s where a turn is too short for it.
//
//   PairedLoadOptions o; o.batched_port = a->port(); o.unbatched_port = b->port(); o.embodiments = {...};
//   absl::StatusOr<nlohmann::json> j = RunPairedLoad(o, [&](int batch, int seed) { return BareMs(batch); });
//
// Thread safety: RunPairedLoad runs on the calling thread (the bare function is called from it).
#ifndef MIVLA_BENCH_SERVER_BENCH_PAIRED_LOAD_H_
#define MIVLA_BENCH_SERVER_BENCH_PAIRED_LOAD_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "nlohmann/json.hpp"

namespace mivla::bench {

struct PairedLoadOptions {
  int batched_port = 0;
  int unbatched_port = 0;
  int sessions = 16;
  int rounds = 6;                               // turns of each server
  double warmup_s = 1.0;                        // of each turn, unmeasured (the robots start new sessions each turn)
  double window_s = 3.0;                        // measured seconds of each turn
  int bare_singles = 4;                         // single-sample bare calls a round (beside one batch of `sessions`)
  std::vector<action::Embodiment> embodiments;  // session i gets embodiments[i % size]
  double call_timeout_s = 60;
};

/// One bare encode + decode call on `batch` samples (1 or PairedLoadOptions::sessions: the function must
/// take both), its time in ms (an error stops the row).
using BareBatchMsFn = std::function<absl::StatusOr<double>(int batch, int seed)>;

/// JSON: sessions, rounds, warmup_s, window_s, batched_chunks_per_s and unbatched_chunks_per_s (means of
/// the turns), ratio (of those means), round_ratios, round_ratio_median, model_bound (sessions x the median
/// single call over the median batch call), round_bounds, ratio_over_bound, estimator ("paced", or "window"
/// when a turn was too short), decode_batch_mean (the batched server's), failed_calls, first_error, note.
/// An error when the options are out of range, a turn could start no session, or a bare call fails; calls
/// that fail inside a turn are counted.
absl::StatusOr<nlohmann::json> RunPairedLoad(const PairedLoadOptions& options, const BareBatchMsFn& bare_ms);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_PAIRED_LOAD_H_
