// File: server_bench_args.h
// mivla-bench-server's command line: its flags, their defaults and their checks (a bad value exits 2
// with the flag, the value and what it wants; --help prints them all).
// Thread safety: call once from main.
#ifndef MIVLA_BENCH_SERVER_BENCH_ARGS_H_
#define MIVLA_BENCH_SERVER_BENCH_ARGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "server/service/server_options.h"

namespace mivla::bench {

/// mivla-bench-server's flags (kUsage in the .cc; --help describes each).
struct ServerBenchArgs {
  std::string config = "tiny";
  bool json = false;
  double duration_s = 6.0;
  double warmup_s = 1.5;
  std::string out_dir;  // default: the build tree's bench/ (set by ParseServerBenchArgs)
  std::vector<int> sessions = {1, 4, 16};
  int64_t queue_delay_us = 2000;
  int bare_repeats = 20;
  std::string tokenizer;  // default: the tiny SentencePiece model in the source tree (ditto)
  std::vector<double> deadline_loads = {0.5, 1.0, 2.0};  // x capacity; empty: no deadline rows
  double deadline_duration_s = 6.0;
  int paired_rounds = 12;  // --paired-rounds: turns of the paired one-robot row (server_bench_paired.h); 0: none
  // --paired-load-rounds: turns of each server in the paired 16-session throughput row
  // (server_bench_paired_load.h); 0: none
  int paired_load_rounds = 6;
  bool soak = false;    // --soak: the hostile-client soak (server_bench_soak.h) instead of the sweep
  double minutes = 30;  // --minutes: each soak phase
  std::string soak_policy = server::ServerOptions().batch_policy;  // --batch-policy: the soak server's
  int blas_threads = -1;    // --blas-threads: as mivla-server's flag, applied before the bare model runs
  bool soak_tokens = true;  // --soak-clients tokens|anonymous: robots and hostile client with their own tokens
  // --soak-runtime model|zero-cost: the soak server's runtime; zero-cost (server_bench_overhead.h) pushes
  // about 20 x as many calls through the server's own code per minute as tiny's model on 2 CPUs.
  bool soak_zero_cost = false;
  int heap_keep_mib = server::ServerOptions().heap_keep_mib;  // --heap-keep-mib: as mivla-server's flag
};

/// The flags of argc/argv; prints usage and exits (0 for --help, 2 for a bad flag) instead of returning.
ServerBenchArgs ParseServerBenchArgs(int argc, char** argv);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_ARGS_H_
