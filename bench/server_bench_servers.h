// File: server_bench_servers.h
// The servers mivla-bench-server measures: in-process PolicyServers on 127.0.0.1 (a free port, no
// metrics port, no model directory) with the random-init model of --config on the CPU, or the
// zero-cost runtime with its shapes (server_bench_overhead.h); batching on (batch 16 in both stages,
// --queue-delay-us) or off (batch 1); and one closed-loop measurement against such a server.
// Thread safety: each call starts its own server.
#ifndef MIVLA_BENCH_SERVER_BENCH_SERVERS_H_
#define MIVLA_BENCH_SERVER_BENCH_SERVERS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/server_bench_args.h"
#include "bench/server_bench_load.h"
#include "server/service/policy_server.h"
#include "server/service/server_options.h"

namespace mivla::bench {

/// The options of a bench server. `zero_cost`: ZeroCostRuntime(--config) instead of the real model. Exits 2
/// when the runtime cannot be made (an unknown --config).
server::ServerOptions BenchServerOptions(const ServerBenchArgs& args, bool batching,
                                         const std::string& policy = server::ServerOptions().batch_policy,
                                         bool zero_cost = false);

/// A started bench server, SERVING. `quiet_refusals`: refused calls are counted, not logged.
absl::StatusOr<std::unique_ptr<server::PolicyServer>> StartBenchServer(
    const ServerBenchArgs& args, bool batching, const std::string& policy = server::ServerOptions().batch_policy,
    bool quiet_refusals = false, bool zero_cost = false);

/// `sessions` robots (piper, arx5, aloha, locoman, human in turn) in closed loop against a fresh bench
/// server for --warmup-s then --duration-s; the server is shut down after.
absl::StatusOr<LoadResult> MeasurePoint(const ServerBenchArgs& args, int sessions, bool batching,
                                        const std::string& policy, bool zero_cost = false);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_SERVERS_H_
