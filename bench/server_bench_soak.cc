#include "bench/server_bench_soak.h"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "bench/memory_sampler.h"
#include "bench/server_bench_load.h"
#include "bench/soak_hostile_client.h"
#include "core/metrics/text_format.h"
#include "core/model/blas_threads.h"
#include "core/util/malloc_tuning.h"
#include "core/util/proc_status.h"
#include "server/service/policy_server.h"

namespace mivla::bench {
namespace {

nlohmann::json Row(const LoadResult& r) {
  return {{"p50_ms", r.p50_ms},       {"p99_ms", r.p99_ms},           {"mean_ms", r.mean_ms},
          {"completed", r.completed}, {"chunks_per_s", r.chunks_per_s}, {"failed_calls", r.failed_calls},
          {"first_error", r.first_error}};
}

// CPU seconds (user + system) of the whole process, and of the calling thread.
double ProcessCpuS() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}
double ThreadCpuS() {
  struct timespec t {};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

// Starts the soak's server, SERVING; with o->client_tokens first writes the two clients' token file into
// o->work_dir and points o->server at it.
absl::StatusOr<std::unique_ptr<server::PolicyServer>> StartSoakServer(SoakOptions* o, const std::string& robot_token,
                                                                      const std::string& hostile_token) {
  if (o->client_tokens) {
    o->server.token_file = o->work_dir + "/soak_tokens.txt";
    std::ofstream f(o->server.token_file);
    f << "# mivla-bench-server --soak: the robots' token, then the hostile client's\n"
      << robot_token << "\n" << hostile_token << "\n";
    if (!f.flush()) return absl::InternalError("cannot write " + o->server.token_file);
  }
  absl::StatusOr<std::unique_ptr<server::PolicyServer>> server = server::PolicyServer::Create(o->server);
  if (!server.ok()) return server.status();
  if (absl::Status s = (*server)->Start(); !s.ok()) return s;
  if (absl::Status s = (*server)->AwaitServing(absl::Seconds(60)); !s.ok()) return s;
  return server;
}

// The robots alone: their load and the process's CPUs busy meanwhile.
struct BaselinePhase {
  absl::StatusOr<LoadResult> load;
  double process_cpus = 0;
};

BaselinePhase RunBaselinePhase(const LoadOptions& lo) {
  const double cpu_start = ProcessCpuS();
  const absl::Time wall_start = absl::Now();
  BaselinePhase p{RunLoad(lo)};
  p.process_cpus = (ProcessCpuS() - cpu_start) / absl::ToDoubleSeconds(absl::Now() - wall_start);
  return p;
}

// The robots beside the hostile client (from 3 s in, so that the robots start their sessions first:
// RunLoad warms up for 5 s), with memory snapshots at the phase's start, after the hostile client's first
// round of cases (its own buffers are in by then) and at the end.
struct HostilePhase {
  absl::StatusOr<LoadResult> load;
  double process_cpus = 0;
  double hostile_thread_cpus = 0;  // the hostile client's own thread
  MemorySnapshot phase_start, start, end;
  nlohmann::json hostile;  // its calls, their codes, the most sessions it held
};

HostilePhase RunHostilePhase(const LoadOptions& lo, const std::string& hostile_token, MemorySampler* memory) {
  HostileClient hostile(lo.port, hostile_token);
  std::atomic<bool> stop{false};
  HostilePhase p;
  p.phase_start = memory->Take();
  double hostile_thread_cpu = 0;
  const double cpu_start = ProcessCpuS();
  const absl::Time wall_start = absl::Now();
  std::thread attacker([&] {
    absl::SleepFor(absl::Seconds(3));
    hostile.Run(stop, [&] { p.start = memory->Take(); });
    hostile_thread_cpu = ThreadCpuS();
  });
  p.load = RunLoad(lo);
  stop.store(true);
  attacker.join();
  const double wall = absl::ToDoubleSeconds(absl::Now() - wall_start);
  p.process_cpus = (ProcessCpuS() - cpu_start) / wall;
  p.hostile_thread_cpus = hostile_thread_cpu / wall;
  p.end = memory->Take();
  p.hostile = {
      {"calls", hostile.calls()}, {"codes", hostile.Counts()}, {"most_sessions_taken", hostile.most_sessions_taken()}};
  return p;
}

// The heap trimmer's releases in each phase (server/service/heap_trimmer.h's counter), MiB; -1: unknown.
struct TrimmedMib {
  double at_start = -1, before_hostile = -1, at_end = -1;
};

// server_soak.json from the two phases (both loads OK).
nlohmann::json SoakJson(const SoakOptions& o, const BaselinePhase& base, const HostilePhase& hostile,
                        const nlohmann::json& memory_report, const TrimmedMib& trimmed) {
  const LoadResult& baseline = *base.load;
  const LoadResult& attacked = *hostile.load;
  const double rss_start = MibOrUnknown(hostile.start.rss), rss_end = MibOrUnknown(hostile.end.rss);
  const double heap_start = MibOrUnknown(hostile.start.heap.in_use), heap_end = MibOrUnknown(hostile.end.heap.in_use);
  const double ratio = baseline.p99_ms > 0 ? attacked.p99_ms / baseline.p99_ms : -1;
  const bool growth_known = rss_start > 0 && rss_end > 0;
  const double growth = growth_known ? rss_end / rss_start - 1 : -1;
  nlohmann::json out;
  out["benchmark"] = "server_soak";
  out["batch_policy"] = o.server.batch_policy;
  out["minutes_per_phase"] = o.minutes;
  out["robots"] = o.robots;
  out["cpus"] = std::thread::hardware_concurrency();
  out["blas_threads"] = model::BlasThreads();
  out["usable_cpus"] = model::UsableCpus();
  out["baseline"] = Row(baseline);
  out["with_hostile"] = Row(attacked);
  out["clients"] = o.client_tokens ? "tokens: the robots share one bearer token, the hostile client has its own"
                                   : "anonymous: no tokens, per-client caps do not apply";
  out["hostile"] = hostile.hostile;
  out["cpu"] = {{"baseline_process_cpus", base.process_cpus},
                {"with_hostile_process_cpus", hostile.process_cpus},
                {"hostile_thread_cpus", hostile.hostile_thread_cpus},
                {"note",
                 "CPU seconds per wall second of the benchmark process (server and all clients) in each "
                 "phase, and of the hostile client's own thread (building and serializing its requests; "
                 "gRPC's shared threads that send them are in the process figure)"}};
  out["p99_ratio"] = ratio;
  out["rss_mb"] = {{"before_hostile", MibOrUnknown(hostile.phase_start.rss)},
                   {"start", rss_start},
                   {"end", rss_end},
                   {"growth", growth},
                   {"note",
                    "VmRSS of the benchmark process (in-process server plus all client threads); start = "
                    "after the hostile client's first round of cases, end = after the phase"}};
  out["heap_in_use_mb"] = {{"start", heap_start},
                           {"end", heap_end},
                           {"growth", heap_start > 0 ? heap_end / heap_start - 1 : -1},
                           {"allocator", AllocatorName()},
                           {"note", "malloc'ed and not freed (core/util/malloc_tuning.h), same points as rss_mb"}};
  out["memory"] = memory_report;
  const auto minus = [](double a, double b) { return a >= 0 && b >= 0 ? a - b : -1.0; };
  out["memory"]["heap_given_back_mib"] = {
      {"baseline", minus(trimmed.before_hostile, trimmed.at_start)},
      {"with_hostile", minus(trimmed.at_end, trimmed.before_hostile)},
      {"note", "the server's heap trimmer (mivla_heap_released_bytes_total) in each phase"}};
  const int64_t failed = attacked.failed_calls + baseline.failed_calls;
  out["targets"] = {{"p99_within_1.2x", {{"value", ratio}, {"met", ratio >= 0 && ratio <= 1.2}}},
                    {"zero_failed_calls", {{"value", failed}, {"met", failed == 0}}},
                    {"rss_growth_within_5pct", {{"value", growth}, {"met", growth_known && growth <= 0.05}}}};
  return out;
}

}  // namespace

absl::StatusOr<nlohmann::json> RunSoak(const SoakOptions& options) {
  SoakOptions o = options;
  const std::string robot_token = o.client_tokens ? "soak-robots" : "";
  const std::string hostile_token = o.client_tokens ? "soak-hostile" : "";
  absl::StatusOr<std::unique_ptr<server::PolicyServer>> server = StartSoakServer(&o, robot_token, hostile_token);
  if (!server.ok()) return server.status();
  LoadOptions lo;
  lo.port = (*server)->port();
  lo.sessions = o.robots;
  lo.warmup_s = 5;
  lo.duration_s = o.minutes * 60;
  lo.bearer_token = robot_token;
  lo.embodiments = BenchEmbodiments();
  // A memory snapshot every `minutes` seconds (about 60 a phase; at least every second, at most every
  // 30 s), both phases.
  MemorySampler memory(absl::Seconds(std::clamp(o.minutes, 1.0, 30.0)));
  const auto trimmed_mib = [&] {
    const std::optional<double> v =
        metrics::SampleValue((*server)->registry().Expose(), "mivla_heap_released_bytes_total");
    return v ? MibOrUnknown(*v) : -1.0;
  };
  TrimmedMib trimmed;
  trimmed.at_start = trimmed_mib();
  std::fprintf(stderr, "soak: baseline, %d robots alone for %.1f min ...\n", o.robots, o.minutes);
  const BaselinePhase baseline = RunBaselinePhase(lo);
  if (!baseline.load.ok()) return baseline.load.status();
  std::fprintf(stderr, "soak: %d robots beside the hostile client for %.1f min ...\n", o.robots, o.minutes);
  trimmed.before_hostile = trimmed_mib();
  const HostilePhase hostile = RunHostilePhase(lo, hostile_token, &memory);
  memory.Stop();
  trimmed.at_end = trimmed_mib();
  (*server)->Shutdown(absl::Seconds(5));
  if (!hostile.load.ok()) return hostile.load.status();
  // Without the first round's snapshot (the hostile client never finished one), from the phase's start.
  const nlohmann::json memory_report =
      memory.Report(hostile.start.rss > 0 ? hostile.start : hostile.phase_start, hostile.end);
  return SoakJson(o, baseline, hostile, memory_report, trimmed);
}

}  // namespace mivla::bench
