// File: server_bench_soak.h
// `mivla-bench-server --soak [--minutes N]` (issue 11): 16 well-behaved robots (RunLoad) on an
// in-process server, first alone for N minutes (baseline), then for N minutes beside a hostile client
// that cycles through the cases of issue 11: a JPEG claiming 30000x30000, a 2.7 MB PNG of 30000x30000
// zeros, joint positions of 1e300, an observation time near the int64 limit, control_rate_hz 1e-300,
// a 15 MB robot_id, a request whose string is not UTF-8, a 1 MB session id, a new task name per
// ReportEpisode, 64 Observes in flight on one session, and StartSession until refused (then EndSession).
// By default the server reads a token file: the robots share one bearer token and the hostile client has
// its own, so the per-client caps (sessions, calls in flight) apply to it as they would in production;
// `client_tokens = false` makes every call anonymous.
// Reports the robots' p50/p99 in both phases and their ratio, the robots' failed calls, the hostile
// calls by status code, and the process's RSS (server and clients share it) at the start and end of
// the hostile phase, with the targets evaluated, and the CPU time the process and the hostile
// client's own thread took in each phase.
// Ownership: RunSoak owns its server, threads and channels.
#ifndef MIVLA_BENCH_SERVER_BENCH_SOAK_H_
#define MIVLA_BENCH_SERVER_BENCH_SOAK_H_

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "server/service/server_options.h"

namespace mivla::bench {

struct SoakOptions {
  double minutes = 30;  // each phase
  int robots = 16;
  server::ServerOptions server;  // port 0 etc. set by the caller
  // The production setup for per-client caps: the server reads a token file (written to work_dir) and the
  // robots share one bearer token, the hostile client has its own, so the per-client session and
  // in-flight caps apply to it. false: no tokens, every call is anonymous (only the global and
  // per-session caps apply).
  bool client_tokens = true;
  std::string work_dir = ".";
};

absl::StatusOr<nlohmann::json> RunSoak(const SoakOptions& options);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_SOAK_H_
