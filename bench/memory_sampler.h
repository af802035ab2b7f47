// File: memory_sampler.h
// Where a long benchmark's resident memory goes, over time: VmRSS split into private memory (RssAnon)
// and mapped files' pages (RssFile: libraries' code paged in as new paths run, not a leak), and the
// allocator's own figures (malloc_tuning.h's HeapStats: bytes in use, all it has mapped, its free page
// heap, thread and central caches). Private memory beyond what the allocator has mapped is outside the
// heap: thread stacks, LibTorch's or gRPC's own mappings.
//
//   MemorySampler sampler(absl::Seconds(10));   // a snapshot now, then one every 10 s on its own thread
//   ...
//   sampler.Stop();
//   out["memory"] = sampler.Report(start, end);  // start / end: MemorySnapshot taken at chosen points
//
// Thread safety: every method may be called from any thread while the sampler's own thread samples.
#ifndef MIVLA_BENCH_MEMORY_SAMPLER_H_
#define MIVLA_BENCH_MEMORY_SAMPLER_H_

#include <cstdint>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "core/util/malloc_tuning.h"
#include "nlohmann/json.hpp"

namespace mivla::bench {

struct MemorySnapshot {
  double t_s = 0;                                  // seconds since the sampler started
  int64_t rss = -1, rss_anon = -1, rss_file = -1;  // bytes; -1 when /proc does not say
  HeapStats heap;

  /// Private memory the allocator has not mapped: RssAnon - HeapStats::mapped (may be below 0: the
  /// allocator's mapped figure counts pages it reserved and has not touched); meaningless when either is
  /// unknown (< 0).
  int64_t outside_heap() const;
};

/// Figures in MiB (unknown ones as null), in the order of MemorySampler's series columns.
nlohmann::json SnapshotJson(const MemorySnapshot& s);

/// end - start for each figure, MiB (null where either is unknown).
nlohmann::json GrowthJson(const MemorySnapshot& start, const MemorySnapshot& end);

/// The least-squares slope, MiB per minute, of `field` (a column name) over the snapshots from
/// `from_s` on; null with fewer than two of them.
nlohmann::json SlopeMibPerMin(const std::vector<MemorySnapshot>& series, const char* field, double from_s);

class MemorySampler {
 public:
  explicit MemorySampler(absl::Duration period);
  ~MemorySampler();  // stops
  MemorySampler(const MemorySampler&) = delete;
  MemorySampler& operator=(const MemorySampler&) = delete;

  /// A snapshot now (also added to the series).
  MemorySnapshot Take();
  /// Stops sampling; idempotent.
  void Stop();

  /// {"start", "end", "growth_mib", "slope_mib_per_min" (from start on), "columns", "series", "note"}.
  nlohmann::json Report(const MemorySnapshot& start, const MemorySnapshot& end);

 private:
  void Loop();

  const absl::Duration period_;
  const absl::Time started_;
  absl::Mutex mu_;
  std::vector<MemorySnapshot> series_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  absl::Mutex stop_mu_;  // one Stop() at a time: notify once, join once
  std::thread thread_ ABSL_GUARDED_BY(stop_mu_);
};

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_MEMORY_SAMPLER_H_
