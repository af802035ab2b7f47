// File: server_bench_plot.h
// The PNG of mivla-bench-server: two panels drawn with OpenCV — Observe+Act latency (p50 solid, p99
// dashed, log scale, with the bare model's encode+decode as a reference line) and throughput (chunks/s)
// against the number of concurrent sessions, batching on vs off; under each panel's title an optional
// note (mivla-bench-server puts the paired rows' readings there).
// Thread-safety: stateless; callable from any thread.
#ifndef MIVLA_BENCH_SERVER_BENCH_PLOT_H_
#define MIVLA_BENCH_SERVER_BENCH_PLOT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace mivla::bench {

struct PlotRow {
  int sessions = 0;
  bool batching = false;
  double chunks_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

/// One line of text under a panel's title (empty: none), e.g. what the paired rows read.
struct PlotNotes {
  std::string latency;
  std::string throughput;
};

/// Draws `rows` (and `notes`) and writes a PNG to `path`. INVALID_ARGUMENT when there is nothing to draw,
/// INTERNAL naming the path when it cannot be written.
absl::Status WritePlot(const std::vector<PlotRow>& rows, double bare_ms, const std::string& title,
                       const std::string& path, const PlotNotes& notes = {});

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_PLOT_H_
