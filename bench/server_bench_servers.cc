// File: server_bench_servers.cc
#include "bench/server_bench_servers.h"

#include <utility>

#include "absl/time/time.h"
#include "server/runtime/torch_runtime_loader.h"

namespace mivla::bench {

absl::StatusOr<server::ServerOptions> BenchServerOptions(const ServerBenchArgs& args, bool batching,
                                                         const std::string& policy,
                                                         const std::optional<server::FakeRuntimeOptions>& fake) {
  server::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.metrics_port = -1;
  o.random_init = true;
  o.config = args.config;
  o.runtime.tokenizer_file = args.tokenizer;  // the real model (server/runtime), on the CPU
  o.runtime.blas_threads = 0;                 // Run() applied --blas-threads once for the whole process; keep it
  if (fake) {
    o.runtime_loader = std::make_shared<server::FakeRuntimeLoader>(*fake);
  } else {
    absl::StatusOr<std::shared_ptr<const server::RuntimeLoader>> loader = server::MakeTorchRuntimeLoader(o.runtime);
    if (!loader.ok()) return loader.status();
    o.runtime_loader = *std::move(loader);
  }
  for (server::StageOptions* s : {&o.encode, &o.decode}) {
    s->max_batch_size = batching ? 16 : 1;
    s->max_queue_delay_us = batching ? args.queue_delay_us : 0;
    s->max_queue_depth = 64;
    s->workers = 1;
  }
  o.batch_policy = policy;
  o.heap_keep_mib = args.heap_keep_mib;
  o.poll_interval = absl::Seconds(3600);  // no model directory to watch
  o.drain_timeout = absl::Seconds(5);
  return o;
}

absl::StatusOr<std::unique_ptr<server::PolicyServer>> StartBenchServer(
    const ServerBenchArgs& args, bool batching, const std::string& policy, bool quiet_refusals,
    const std::optional<server::FakeRuntimeOptions>& fake) {
  absl::StatusOr<server::ServerOptions> options = BenchServerOptions(args, batching, policy, fake);
  if (!options.ok()) return options.status();
  if (quiet_refusals) options->refusal_log_sink = [](const std::string&) {};  // misses are counted, not printed
  auto server = server::PolicyServer::Create(*std::move(options));
  if (!server.ok()) return server.status();
  if (absl::Status s = (*server)->Start(); !s.ok()) return s;
  if (absl::Status s = (*server)->AwaitServing(absl::Seconds(60)); !s.ok()) return s;
  return server;
}

absl::StatusOr<LoadResult> MeasurePoint(const ServerBenchArgs& args, int sessions, bool batching,
                                        const std::string& policy,
                                        const std::optional<server::FakeRuntimeOptions>& fake) {
  auto server = StartBenchServer(args, batching, policy, /*quiet_refusals=*/false, fake);
  if (!server.ok()) return server.status();
  LoadOptions lo;
  lo.port = (*server)->port();
  lo.sessions = sessions;
  lo.warmup_s = args.warmup_s;
  lo.duration_s = args.duration_s;
  lo.embodiments = BenchEmbodiments();
  absl::StatusOr<LoadResult> r = RunLoad(lo);
  (*server)->Shutdown(absl::Seconds(5));
  return r;
}

}  // namespace mivla::bench
