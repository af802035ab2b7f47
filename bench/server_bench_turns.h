// File: server_bench_turns.h
// mivla-bench-server's rows measured in turns, so that a target's two sides share the machine's speed of
// the same minutes: the paired one-robot row (one robot under EDF and the bare model, server_bench_paired.h)
// and the paired 16-session throughput row (a batched and an unbatched server under the same robots, with
// the bare model's bound between them, server_bench_paired_load.h). Each starts its own servers, adds its
// JSON and its target to `out` and reports on stderr; PairedPlotNotes words them for the PNG.
// Thread safety: call from one thread; `bare` is used from it.
#ifndef MIVLA_BENCH_SERVER_BENCH_TURNS_H_
#define MIVLA_BENCH_SERVER_BENCH_TURNS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "bench/server_bench_args.h"
#include "bench/server_bench_bare.h"
#include "bench/server_bench_plot.h"
#include "nlohmann/json.hpp"

namespace mivla::bench {

/// one_robot_paired and targets.p50_1_session_over_bare_1_05_paired (--paired-rounds turns). A failed
/// call is an error.
absl::Status AddPairedRow(const ServerBenchArgs& args, BareModel& bare, nlohmann::json* out);

/// throughput_16_paired and targets.chunks_16_batched_over_unbatched_paired (--paired-load-rounds turns of
/// each server, each at most --warmup-s and 1 s of warm-up and --duration-s and 3 s measured). Calls that
/// fail inside a turn are added to *failed.
absl::Status AddPairedLoadRow(const ServerBenchArgs& args, BareModel& bare, nlohmann::json* out, int64_t* failed);

/// The PNG's notes: what one_robot_paired and throughput_16_paired read, for those of them in `out`.
PlotNotes PairedPlotNotes(const nlohmann::json& out);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_TURNS_H_
