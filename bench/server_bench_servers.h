// File: server_bench_servers.h
// The servers mivla-bench-server measures: in-process PolicyServers on 127.0.0.1 (a free port, no
// metrics port, no model directory) with the random-init model of --config on the CPU, or the
// zero-cost runtime with its shapes (server_bench_overhead.h); batching on (batch 16 in both stages,
// --queue-delay-us) or off (batch 1); and one closed-loop measurement against such a server.
// Thread safety: StartBenchServer and MeasurePoint start a server of their own per call.
#ifndef MIVLA_BENCH_SERVER_BENCH_SERVERS_H_
#define MIVLA_BENCH_SERVER_BENCH_SERVERS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "bench/server_bench_args.h"
#include "bench/server_bench_load.h"
#include "server/runtime_api/fake_policy_runtime.h"
#include "server/service/policy_server.h"
#include "server/service/server_options.h"

namespace mivla::bench {

/// The options of a bench server: the real model of --config, or `fake` (the fake runtime with those
/// options: server_bench_overhead.h's runtimes) instead. An error when the real model's loader cannot be
/// made (its tokenizer).
absl::StatusOr<server::ServerOptions> BenchServerOptions(
    const ServerBenchArgs& args, bool batching, const std::string& policy = server::ServerOptions().batch_policy,
    const std::optional<server::FakeRuntimeOptions>& fake = std::nullopt);

/// A started bench server, SERVING. `quiet_refusals`: refused calls are counted, not logged.
absl::StatusOr<std::unique_ptr<server::PolicyServer>> StartBenchServer(
    const ServerBenchArgs& args, bool batching, const std::string& policy = server::ServerOptions().batch_policy,
    bool quiet_refusals = false, const std::optional<server::FakeRuntimeOptions>& fake = std::nullopt);

/// `sessions` robots (piper, arx5, aloha, locoman, human in turn) in closed loop against a fresh bench
/// server for --warmup-s then --duration-s; the server is shut down after.
absl::StatusOr<LoadResult> MeasurePoint(const ServerBenchArgs& args, int sessions, bool batching,
                                        const std::string& policy,
                                        const std::optional<server::FakeRuntimeOptions>& fake = std::nullopt);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_SERVERS_H_
