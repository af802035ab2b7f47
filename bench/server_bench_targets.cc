#include "bench/server_bench_targets.h"

#include <cstdio>
#include <string>

namespace mivla::bench {
namespace {

// The row for `sessions` and `batching`; with a policy, the batched row run under it (else the first one,
// the default policy's).
const nlohmann::json* FindRow(const nlohmann::json& rows, int sessions, bool batching, const std::string& policy = "") {
  for (const auto& r : rows) {
    if (r["sessions"] != sessions || r["batching"] != batching) continue;
    if (!policy.empty() && r.value("policy", std::string()) != policy) continue;
    return &r;
  }
  return nullptr;
}

nlohmann::json Target(double ratio, double limit, bool at_most, const std::string& what) {
  return {{"what", what}, {"ratio", ratio}, {"limit", limit}, {"pass", at_most ? ratio <= limit : ratio >= limit}};
}

}  // namespace

nlohmann::json Targets(const nlohmann::json& rows, double bare_ms, double bare16_ms) {
  nlohmann::json t;
  const nlohmann::json* on1 = FindRow(rows, 1, true);
  const nlohmann::json* off1 = FindRow(rows, 1, false);
  const nlohmann::json* on16 = FindRow(rows, 16, true);
  const nlohmann::json* off16 = FindRow(rows, 16, false);
  const nlohmann::json* edf1 = FindRow(rows, 1, true, "edf");
  t["p50_1_session_over_bare"] =
      on1 ? Target((*on1)["p50_ms"].get<double>() / bare_ms, 1.15, true,
                   "server p50 at 1 session (batching on) <= 1.15 x bare_decode_ms")
          : nlohmann::json();
  t["p50_1_session_unbatched_over_bare"] =
      off1 ? Target((*off1)["p50_ms"].get<double>() / bare_ms, 1.15, true,
                    "same with batching off (no queue delay; informational)")
           : nlohmann::json();
  t["chunks_16_batched_over_unbatched"] =
      (on16 && off16) ? Target((*on16)["chunks_per_s"].get<double>() / (*off16)["chunks_per_s"].get<double>(), 2.0,
                               false, "chunks_per_s at 16 sessions, batched >= 2 x unbatched")
                      : nlohmann::json();
  t["p50_1_session_over_bare_1_05"] =
      edf1 ? Target((*edf1)["p50_ms"].get<double>() / bare_ms, 1.05, true,
                    "issue 12: one robot alone, batching on (edf), p50 <= 1.05 x bare_decode_ms")
           : nlohmann::json();
  t["p99_16_over_bare_batch16"] =
      on16 ? Target((*on16)["p99_ms"].get<double>() / bare16_ms, 1.3, true,
                    "issue 12: p99 at 16 sessions (batched) <= 1.3 x bare_batch16_ms")
           : nlohmann::json();
  t["p99_16_over_p50_1"] =
      (on16 && on1) ? Target((*on16)["p99_ms"].get<double>() / (*on1)["p50_ms"].get<double>(), 4.0, true,
                             "p99 at 16 sessions (batched) <= 4 x the 1-session p50 (batched)")
                    : nlohmann::json();
  return t;
}

nlohmann::json PairedOneRobotTarget(double ratio) {
  return Target(ratio, 1.05, true,
                "issue 12: the same one robot (edf), p50 <= 1.05 x the bare model measured in turns with it "
                "(one_robot_paired)");
}

nlohmann::json PairedThroughputTarget(double ratio) {
  return Target(ratio, 2.0, false,
                "chunks_per_s at 16 sessions, batched >= 2 x unbatched, the two servers measured in turns "
                "(throughput_16_paired)");
}

void PrintTargets(const nlohmann::json& out) {
  for (const auto& [name, t] : out["targets"].items()) {
    if (t.is_object() && t.contains("what")) {
      std::fprintf(stderr, "target %-36s ratio %6.3f (limit %.2f): %s\n", name.c_str(), t["ratio"].get<double>(),
                   t["limit"].get<double>(), t["pass"].get<bool>() ? "met" : "MISSED");
    }
  }
  if (out.contains("deadline")) {
    for (const auto& t : out["deadline"]["edf_over_fifo_misses"]) {
      std::fprintf(stderr, "target deadline misses at load %.2f: fifo %.1f%%, edf %.1f%% -> %s\n", t["load"].get<double>(),
                   100 * t["fifo_miss_rate"].get<double>(), 100 * t["edf_miss_rate"].get<double>(),
                   t["pass"].is_null() ? "n/a (fifo missed nothing)"
                                       : (t["pass"].get<bool>() ? "met (edf <= 0.5 x fifo)" : "MISSED (edf > 0.5 x fifo)"));
    }
  }
}

}  // namespace mivla::bench
