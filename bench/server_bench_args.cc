// File: server_bench_args.cc
#include "bench/server_bench_args.h"

#include <cstdlib>
#include <iostream>
#include <optional>
#include <tuple>
#include <type_traits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/util/flag_parser.h"

#ifndef MIVLA_DEFAULT_TOKENIZER
#define MIVLA_DEFAULT_TOKENIZER "core/tokenizer/data/mivla_tiny_spm.model"
#endif
#ifndef MIVLA_BENCH_DEFAULT_OUT_DIR
#define MIVLA_BENCH_DEFAULT_OUT_DIR "build/bench"
#endif

namespace mivla::bench {
namespace {

const char kUsage[] =
    "mivla-bench-server --config tiny [--json] [--duration-s S] [--warmup-s S] [--out-dir DIR]\n"
    "       [--sessions 1,4,16] [--queue-delay-us US] [--bare-repeats N] [--tokenizer FILE]\n"
    "       [--deadline-loads 0.5,1,2 | none] [--deadline-duration-s S] [--paired-rounds N] [--paired-load-rounds N]\n"
    "       [--blas-threads N] [--heap-keep-mib N]\n"
    "   or: mivla-bench-server --soak [--minutes N] [--batch-policy edf|fifo] [--soak-clients tokens|anonymous]\n"
    "       [--soak-runtime model|zero-cost] [--config tiny] [--out-dir DIR] [--heap-keep-mib N]";

[[noreturn]] void Usage(const std::string& error) {
  std::cerr << "mivla-bench-server: " << error << " (see --help)\n";
  std::exit(2);
}

// Whether `value` of --`flag` is `first`; Usage unless it is `first` or `second`.
bool OneOf(const char* flag, const std::string& value, const char* first, const char* second) {
  if (value != first && value != second) {
    Usage(absl::StrCat("--", flag, ": '", value, "': want ", first, " or ", second));
  }
  return value == first;
}

// A comma-separated list of numbers that each pass `ok`; Usage names the flag, the part and `want`.
template <typename T, typename Ok>
std::vector<T> NumberList(const char* flag, const std::string& text, Ok ok, const char* want) {
  std::vector<T> out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    T x;
    bool parsed;
    if constexpr (std::is_integral_v<T>) {
      parsed = absl::SimpleAtoi(part, &x);
    } else {
      parsed = absl::SimpleAtod(part, &x);
    }
    if (!parsed || !ok(x)) Usage(absl::StrCat("--", flag, ": '", part, "' is not ", want));
    out.push_back(x);
  }
  return out;
}

}  // namespace

ServerBenchArgs ParseServerBenchArgs(int argc, char** argv) {
  ServerBenchArgs a;
  a.out_dir = MIVLA_BENCH_DEFAULT_OUT_DIR;
  a.tokenizer = MIVLA_DEFAULT_TOKENIZER;
  std::string sessions = "1,4,16", loads = "0.5,1,2", soak_clients = "tokens", soak_runtime = "model";
  int64_t queue_delay_us = a.queue_delay_us, bare_repeats = a.bare_repeats, blas_threads = a.blas_threads,
          heap_keep_mib = a.heap_keep_mib, paired_rounds = a.paired_rounds, paired_load_rounds = a.paired_load_rounds;
  FlagParser p(kUsage);
  p.AddString("config", &a.config, "model configuration of the random-init server: tiny or base");
  p.AddBool("json", &a.json, "print only the JSON");
  p.AddDouble("duration-s", &a.duration_s, "measured seconds per row, in [0.05, 3600]");
  p.AddDouble("warmup-s", &a.warmup_s, "unmeasured seconds before each row, in [0, 3600]");
  p.AddString("out-dir", &a.out_dir, "where server_bench.json / .png (or server_soak.json) go");
  p.AddString("sessions", &sessions, "robot session counts of the sweep, each in [1, 256]");
  p.AddInt("queue-delay-us", &queue_delay_us, "batching servers' max_queue_delay_us (>= 0)");
  p.AddInt("bare-repeats", &bare_repeats, "repeats of the bare model's reference times (>= 1)");
  p.AddString("tokenizer", &a.tokenizer, "SentencePiece model of the servers");
  p.AddString("deadline-loads", &loads, "deadline rows' loads x capacity, each in (0, 10], or none");
  p.AddDouble("deadline-duration-s", &a.deadline_duration_s, "measured seconds per deadline row");
  p.AddInt("paired-rounds", &paired_rounds,
           "turns of one robot and the bare model in the paired one-robot row, in [0, 1000] (0: no such row)");
  p.AddInt("paired-load-rounds", &paired_load_rounds,
           "turns of a batched and an unbatched server under 16 robots in the paired throughput row, in [0, 100] "
           "(0: no such row; an even count gives each server the first turn equally often)");
  p.AddInt("blas-threads", &blas_threads, "as mivla-server's flag (-1: auto), applied before the bare model runs");
  p.AddBool("soak", &a.soak, "run the hostile-client soak instead of the sweep");
  p.AddDouble("minutes", &a.minutes, "minutes of each soak phase");
  p.AddString("batch-policy", &a.soak_policy, "the soak server's batch policy: edf or fifo");
  p.AddString("soak-clients", &soak_clients, "tokens (each client its own token) or anonymous");
  p.AddString("soak-runtime", &soak_runtime, "the soak server's runtime: model (--config's) or zero-cost");
  p.AddInt("heap-keep-mib", &heap_keep_mib, "as mivla-server's flag: the servers' heap trimmer keep (-1: no trimmer)");
  if (std::optional<int> exit = p.ParseFlagsForMain(argc, argv, "mivla-bench-server")) std::exit(*exit);
  for (auto [flag, value, min] : {std::tuple{"duration-s", a.duration_s, 0.05},
                                  {"warmup-s", a.warmup_s, 0.0},
                                  {"minutes", a.minutes, 0.05},
                                  {"deadline-duration-s", a.deadline_duration_s, 0.05}}) {
    if (!(value >= min) || value > 3600) Usage(absl::StrCat("--", flag, ": ", value, " is not in [", min, ", 3600]"));
  }
  OneOf("batch-policy", a.soak_policy, "edf", "fifo");
  a.soak_tokens = OneOf("soak-clients", soak_clients, "tokens", "anonymous");
  a.soak_zero_cost = !OneOf("soak-runtime", soak_runtime, "model", "zero-cost");
  if (queue_delay_us < 0) Usage(absl::StrCat("--queue-delay-us: ", queue_delay_us, " is not >= 0"));
  if (bare_repeats < 1 || bare_repeats > 1000000) Usage(absl::StrCat("--bare-repeats: ", bare_repeats, " is not >= 1"));
  if (blas_threads < -1 || blas_threads > 1024)
    Usage(absl::StrCat("--blas-threads: ", blas_threads, " is not in [-1, 1024]"));
  if (paired_rounds < 0 || paired_rounds > 1000) {
    Usage(absl::StrCat("--paired-rounds: ", paired_rounds, " is not in [0, 1000]"));
  }
  a.paired_rounds = static_cast<int>(paired_rounds);
  if (paired_load_rounds < 0 || paired_load_rounds > 100) {
    Usage(absl::StrCat("--paired-load-rounds: ", paired_load_rounds, " is not in [0, 100]"));
  }
  a.paired_load_rounds = static_cast<int>(paired_load_rounds);
  a.queue_delay_us = queue_delay_us;
  a.bare_repeats = static_cast<int>(bare_repeats);
  a.blas_threads = static_cast<int>(blas_threads);
  if (heap_keep_mib < -1 || heap_keep_mib > (int64_t{1} << 20)) {
    Usage(absl::StrCat("--heap-keep-mib: ", heap_keep_mib, " is not -1 or in [0, 1048576]"));
  }
  a.heap_keep_mib = static_cast<int>(heap_keep_mib);
  a.sessions = NumberList<int>(
      "sessions", sessions, [](int n) { return n >= 1 && n <= 256; }, "in [1, 256]");
  if (loads != "none") {
    a.deadline_loads = NumberList<double>(
        "deadline-loads", loads, [](double x) { return x > 0 && x <= 10; }, "in (0, 10] (or none)");
  } else {
    a.deadline_loads.clear();
  }
  return a;
}

}  // namespace mivla::bench
