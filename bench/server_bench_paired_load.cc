#include "bench/server_bench_paired_load.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/server_bench_load.h"
#include "core/util/quantile.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"

namespace mivla::bench {
namespace {

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

}  // namespace

absl::StatusOr<nlohmann::json> RunPairedLoad(const PairedLoadOptions& o, const BareBatchMsFn& bare_ms) {
  if (o.sessions < 1 || o.rounds < 1 || o.bare_singles < 1 || o.warmup_s < 0 || o.window_s <= 0 ||
      o.embodiments.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("paired load row: sessions ", o.sessions, ", rounds ", o.rounds,
                                                   ", bare_singles ", o.bare_singles, ", warmup_s ", o.warmup_s,
                                                   ", window_s ", o.window_s, ", embodiments ", o.embodiments.size()));
  }
  LoadOptions load;
  load.sessions = o.sessions;
  load.warmup_s = o.warmup_s;
  load.duration_s = o.window_s;
  load.embodiments = o.embodiments;
  load.call_timeout_s = o.call_timeout_s;
  std::vector<LoadResult> batched, unbatched;
  int64_t failed = 0;
  std::string first_error;
  const auto turn = [&](bool batching) -> absl::Status {
    load.port = batching ? o.batched_port : o.unbatched_port;
    absl::StatusOr<LoadResult> r = RunLoad(load);
    if (!r.ok())
      return WithPrefix(r.status(), batching ? "paired load row, batched: " : "paired load row, unbatched: ");
    failed += r->failed_calls;
    if (first_error.empty()) first_error = r->first_error;
    (batching ? batched : unbatched).push_back(*std::move(r));
    return absl::OkStatus();
  };
  int seed = 0;
  const auto bare = [&](int batch, std::vector<double>* into) -> absl::Status {
    absl::StatusOr<double> ms = bare_ms(batch, ++seed);
    if (!ms.ok()) return WithPrefix(ms.status(), "paired load row, bare model: ");
    into->push_back(*ms);
    return absl::OkStatus();
  };
  std::vector<double> singles, batches, round_bounds;
  for (int round = 0; round < o.rounds; ++round) {
    const bool batched_first = round % 2 == 0;
    RETURN_IF_ERROR(turn(batched_first));
    RETURN_IF_ERROR(turn(!batched_first));
    std::vector<double> round_singles;
    for (int i = 0; i < o.bare_singles; ++i) RETURN_IF_ERROR(bare(1, &round_singles));
    RETURN_IF_ERROR(bare(o.sessions, &batches));
    round_bounds.push_back(o.sessions * Quantile(round_singles, 0.5) / batches.back());
    singles.insert(singles.end(), round_singles.begin(), round_singles.end());
  }
  // Each session's own rate where every turn has one (LoadResult::paced_chunks_per_s), else the window's count.
  const auto has_pace = [](const LoadResult& r) { return r.paced_chunks_per_s > 0; };
  const bool paced = std::all_of(batched.begin(), batched.end(), has_pace) &&
                     std::all_of(unbatched.begin(), unbatched.end(), has_pace);
  const auto rates = [&](const std::vector<LoadResult>& side) {
    std::vector<double> v;
    for (const LoadResult& r : side) v.push_back(paced ? r.paced_chunks_per_s : r.chunks_per_s);
    return v;
  };
  const std::vector<double> on = rates(batched), off = rates(unbatched);
  std::vector<double> round_ratios, decode_batch;
  for (int r = 0; r < o.rounds; ++r) {
    round_ratios.push_back(off[r] > 0 ? on[r] / off[r] : 0);
    decode_batch.push_back(batched[r].server.decode_batch);
  }
  const double ratio = Mean(off) > 0 ? Mean(on) / Mean(off) : 0;
  const double bound = o.sessions * Quantile(singles, 0.5) / Quantile(batches, 0.5);
  return nlohmann::json{
      {"sessions", o.sessions},
      {"rounds", o.rounds},
      {"warmup_s", o.warmup_s},
      {"window_s", o.window_s},
      {"batched_chunks_per_s", Mean(on)},
      {"unbatched_chunks_per_s", Mean(off)},
      {"ratio", ratio},
      {"round_ratios", round_ratios},
      {"round_ratio_median", Quantile(round_ratios, 0.5)},
      {"model_bound", bound},
      {"round_bounds", round_bounds},
      {"ratio_over_bound", ratio / bound},
      {"estimator", paced ? "paced" : "window"},
      {"decode_batch_mean", Mean(decode_batch)},
      {"failed_calls", failed},
      {"first_error", first_error},
      {"note",
       "a batched and an unbatched server took turns under the same robots (batched first in even rounds, "
       "unbatched first in odd ones), with the bare model's single samples and one batch between rounds; "
       "ratio = mean batched chunks/s over mean unbatched; model_bound = sessions x the median single call "
       "over the median batch call: what a perfect batch gains over one sample at a time, on the same "
       "minutes' machine; estimator paced: each session's own rate between its first and last pair of the "
       "window, summed"}};
}

}  // namespace mivla::bench
