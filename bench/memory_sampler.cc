// File: memory_sampler.cc
#include "bench/memory_sampler.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/time/clock.h"
#include "core/util/proc_status.h"

namespace mivla::bench {
namespace {

constexpr const char* kColumns[] = {"t_s",         "rss",         "rss_anon",       "rss_file",      "outside_heap",
                                    "heap_mapped", "heap_in_use", "page_heap_free", "thread_caches", "central_caches"};

// Column `name` of `s` in MiB (t_s in seconds); empty when unknown.
std::optional<double> Field(const MemorySnapshot& s, const char* name) {
  if (std::strcmp(name, "t_s") == 0) return s.t_s;
  if (std::strcmp(name, "outside_heap") == 0) {
    if (s.rss_anon < 0 || s.heap.mapped < 0) return std::nullopt;
    return static_cast<double>(s.outside_heap()) / kBytesPerMib;  // may be negative
  }
  const std::pair<const char*, int64_t> bytes[] = {{"rss", s.rss},
                                                   {"rss_anon", s.rss_anon},
                                                   {"rss_file", s.rss_file},
                                                   {"heap_mapped", s.heap.mapped},
                                                   {"heap_in_use", s.heap.in_use},
                                                   {"page_heap_free", s.heap.page_heap_free},
                                                   {"thread_caches", s.heap.thread_caches},
                                                   {"central_caches", s.heap.central_caches}};
  for (const auto& [n, b] : bytes) {
    if (std::strcmp(name, n) == 0) {
      return b < 0 ? std::nullopt : std::optional<double>(MibOrUnknown(b));
    }
  }
  return std::nullopt;
}

nlohmann::json OrNull(std::optional<double> v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

int64_t MemorySnapshot::outside_heap() const { return rss_anon - heap.mapped; }

nlohmann::json SnapshotJson(const MemorySnapshot& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const char* c : kColumns) j[c] = OrNull(Field(s, c));
  return j;
}

nlohmann::json GrowthJson(const MemorySnapshot& start, const MemorySnapshot& end) {
  nlohmann::json j = nlohmann::json::object();
  for (const char* c : kColumns) {
    if (std::strcmp(c, "t_s") == 0) continue;
    const std::optional<double> a = Field(start, c), b = Field(end, c);
    j[c] = a && b ? nlohmann::json(*b - *a) : nlohmann::json();
  }
  return j;
}

nlohmann::json SlopeMibPerMin(const std::vector<MemorySnapshot>& series, const char* field, double from_s) {
  double n = 0, st = 0, sv = 0, stt = 0, stv = 0;
  for (const MemorySnapshot& s : series) {
    const std::optional<double> value = Field(s, field);
    if (s.t_s < from_s || !value) continue;
    const double t = s.t_s / 60.0, v = *value;
    n += 1;
    st += t;
    sv += v;
    stt += t * t;
    stv += t * v;
  }
  const double denom = n * stt - st * st;
  if (n < 2 || denom <= 0) return nlohmann::json();
  return (n * stv - st * sv) / denom;
}

MemorySampler::MemorySampler(absl::Duration period) : period_(period), started_(absl::Now()) {
  Take();
  absl::MutexLock lock(&stop_mu_);
  thread_ = std::thread([this] { Loop(); });
}

MemorySampler::~MemorySampler() { Stop(); }

MemorySnapshot MemorySampler::Take() {
  MemorySnapshot s;
  s.t_s = absl::ToDoubleSeconds(absl::Now() - started_);
  const ProcMemory m = ReadProcMemory();  // one read: its figures agree
  s.rss = m.rss;
  s.rss_anon = m.rss_anon;
  s.rss_file = m.rss_file;
  s.heap = ReadHeapStats();
  absl::MutexLock lock(&mu_);
  series_.push_back(s);
  return s;
}

void MemorySampler::Stop() {
  absl::MutexLock lock(&stop_mu_);
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void MemorySampler::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(period_)) Take();
}

nlohmann::json MemorySampler::Report(const MemorySnapshot& start, const MemorySnapshot& end) {
  std::vector<MemorySnapshot> series;
  {
    absl::MutexLock lock(&mu_);
    series = series_;
  }
  std::sort(series.begin(), series.end(),
            [](const MemorySnapshot& a, const MemorySnapshot& b) { return a.t_s < b.t_s; });
  nlohmann::json rows = nlohmann::json::array();
  for (const MemorySnapshot& s : series) {
    nlohmann::json row = nlohmann::json::array();
    for (const char* c : kColumns) row.push_back(OrNull(Field(s, c)));
    rows.push_back(std::move(row));
  }
  nlohmann::json slopes = nlohmann::json::object();
  for (const char* c : kColumns) {
    if (std::strcmp(c, "t_s") != 0) slopes[c] = SlopeMibPerMin(series, c, start.t_s);
  }
  return {{"start", SnapshotJson(start)},
          {"end", SnapshotJson(end)},
          {"growth_mib", GrowthJson(start, end)},
          {"slope_mib_per_min", std::move(slopes)},
          {"columns", kColumns},
          {"series", std::move(rows)},
          {"note",
           "MiB (t_s: seconds). rss = rss_anon + rss_file (+ shared memory), from one read; outside_heap = "
           "rss_anon - heap_mapped (thread stacks, other private mappings); heap_mapped = what tcmalloc holds: "
           "heap_in_use + page_heap_free + thread_caches + central_caches + its metadata, read one property "
           "at a time (null under glibc, whose arena figures are address space). Slopes are least-squares "
           "fits over the series from start on."}};
}

}  // namespace mivla::bench
