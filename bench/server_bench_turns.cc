#include "bench/server_bench_turns.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "bench/server_bench_load.h"
#include "bench/server_bench_paired.h"
#include "bench/server_bench_paired_load.h"
#include "bench/server_bench_servers.h"
#include "bench/server_bench_targets.h"
#include "core/util/status_macros.h"
#include "server/service/policy_server.h"

namespace mivla::bench {

absl::Status AddPairedRow(const ServerBenchArgs& args, BareModel& bare, nlohmann::json* out) {
  std::cerr << "one robot (edf) and the bare model in turns, " << args.paired_rounds << " rounds ..." << std::endl;
  ASSIGN_OR_RETURN(std::unique_ptr<server::PolicyServer> server, StartBenchServer(args, /*batching=*/true, "edf"));
  PairedOptions o;
  o.port = server->port();
  o.rounds = args.paired_rounds;
  int seed = 0;
  absl::StatusOr<nlohmann::json> paired = RunPaired(o, [&] { return bare.Time(1, ++seed); });
  server->Shutdown(absl::Seconds(5));
  if (!paired.ok()) return paired.status();
  (*out)["one_robot_paired"] = *paired;
  (*out)["targets"]["p50_1_session_over_bare_1_05_paired"] = PairedOneRobotTarget((*paired)["ratio"].get<double>());
  std::fprintf(stderr, "  robot p50 %.2f ms, bare model p50 %.2f ms in the same turns: %.3f x (rounds' median %.3f)\n",
               (*paired)["server_p50_ms"].get<double>(), (*paired)["bare_p50_ms"].get<double>(),
               (*paired)["ratio"].get<double>(), (*paired)["round_ratio_median"].get<double>());
  return absl::OkStatus();
}

absl::Status AddPairedLoadRow(const ServerBenchArgs& args, BareModel& bare, nlohmann::json* out, int64_t* failed) {
  PairedLoadOptions o;  // sessions: 16, the bare model's batch
  o.rounds = args.paired_load_rounds;
  o.warmup_s = std::min(1.0, args.warmup_s);
  o.window_s = std::min(3.0, args.duration_s);
  o.embodiments = BenchEmbodiments();
  std::fprintf(stderr,
               "16 sessions, a batched and an unbatched server in turns, %d rounds of %.1f + %.1f s each (ETA %.0f s) "
               "...\n",
               o.rounds, o.warmup_s, o.window_s, o.rounds * (2 * (o.warmup_s + o.window_s + 0.5) + 0.5));
  const std::string policy = server::ServerOptions().batch_policy;  // as the sweep's batched rows
  ASSIGN_OR_RETURN(std::unique_ptr<server::PolicyServer> batched, StartBenchServer(args, /*batching=*/true, policy));
  ASSIGN_OR_RETURN(std::unique_ptr<server::PolicyServer> unbatched, StartBenchServer(args, /*batching=*/false, policy));
  o.batched_port = batched->port();
  o.unbatched_port = unbatched->port();
  absl::StatusOr<nlohmann::json> row = RunPairedLoad(o, [&](int batch, int seed) -> absl::StatusOr<double> {
    ASSIGN_OR_RETURN(BareCall call, bare.Time(batch, seed));
    return call.total_ms;
  });
  batched->Shutdown(absl::Seconds(5));
  unbatched->Shutdown(absl::Seconds(5));
  if (!row.ok()) return row.status();
  (*row)["policy"] = policy;
  *failed += (*row)["failed_calls"].get<int64_t>();
  (*out)["throughput_16_paired"] = *row;
  (*out)["targets"]["chunks_16_batched_over_unbatched_paired"] = PairedThroughputTarget((*row)["ratio"].get<double>());
  std::fprintf(stderr,
               "  batched %.1f, unbatched %.1f chunks/s in the same turns: %.3f x (rounds' median %.3f); the model's "
               "bound %.3f x (batch %.1f)\n",
               (*row)["batched_chunks_per_s"].get<double>(), (*row)["unbatched_chunks_per_s"].get<double>(),
               (*row)["ratio"].get<double>(), (*row)["round_ratio_median"].get<double>(),
               (*row)["model_bound"].get<double>(), (*row)["decode_batch_mean"].get<double>());
  return absl::OkStatus();
}

PlotNotes PairedPlotNotes(const nlohmann::json& out) {
  PlotNotes notes;
  if (const auto it = out.find("one_robot_paired"); it != out.end()) {
    const nlohmann::json& p = *it;
    notes.latency =
        absl::StrFormat("1 robot (edf) and the bare model in turns: p50 %.1f vs %.1f ms, %.3f x",
                        p["server_p50_ms"].get<double>(), p["bare_p50_ms"].get<double>(), p["ratio"].get<double>());
  }
  if (const auto it = out.find("throughput_16_paired"); it != out.end()) {
    const nlohmann::json& p = *it;
    notes.throughput =
        absl::StrFormat("16 sessions, the servers in turns: %.1f vs %.1f chunks/s, %.3f x (bound %.3f x)",
                        p["batched_chunks_per_s"].get<double>(), p["unbatched_chunks_per_s"].get<double>(),
                        p["ratio"].get<double>(), p["model_bound"].get<double>());
  }
  return notes;
}

}  // namespace mivla::bench
