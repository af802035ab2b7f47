// File: server_bench_targets.h
// mivla-bench-server's targets: the ratios evaluated on the sweep's rows (null where a needed row
// was not measured), and their one-line summaries on stderr (with the deadline rows' EDF/FIFO ratios).
// Thread-safety: pure functions (PrintTargets writes to stderr).
#ifndef MIVLA_BENCH_SERVER_BENCH_TARGETS_H_
#define MIVLA_BENCH_SERVER_BENCH_TARGETS_H_

#include "nlohmann/json.hpp"

namespace mivla::bench {

/// Evaluates the targets on `rows` (sessions x batching) against the bare model's batch-1 and batch-16 times.
nlohmann::json Targets(const nlohmann::json& rows, double bare_ms, double bare16_ms);

/// Issue 12's one-robot target (<= 1.05) on the paired row's ratio (server_bench_paired.h).
nlohmann::json PairedOneRobotTarget(double ratio);

/// The 16-session throughput target (batched >= 2 x unbatched) on the paired row's ratio (server_bench_paired_load.h).
nlohmann::json PairedThroughputTarget(double ratio);

/// One line per target of out["targets"] and per load of out["deadline"]["edf_over_fifo_misses"].
void PrintTargets(const nlohmann::json& out);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_TARGETS_H_
