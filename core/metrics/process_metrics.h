// File: process_metrics.h
// The conventional `process_*` metrics of the Prometheus client libraries, read from /proc (Linux):
//   process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds, process_max_fds
//   and process_start_time_seconds (gauges), process_cpu_seconds_total (counter).
//
//   RETURN_IF_ERROR(RegisterProcessMetrics(&registry));  // refreshed on every Expose()
//
// Thread safety: ReadProcessStats is thread-safe; the registered hook runs under the registry's
// hook lock.
#ifndef MIVLA_CORE_METRICS_PROCESS_METRICS_H_
#define MIVLA_CORE_METRICS_PROCESS_METRICS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/metrics/registry.h"

namespace mivla::metrics {

struct ProcessStats {
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double cpu_seconds = 0;         // user + system
  double start_time_seconds = 0;  // since the Unix epoch
};

/// Reads the current process' statistics from /proc/self. Internal on a system without /proc.
absl::StatusOr<ProcessStats> ReadProcessStats();

/// Registers the process_* families in `registry` (not owned; must outlive nothing else) and a
/// collect hook that refreshes them before each exposition. Errors when the names are taken by
/// families of another shape, or /proc is unreadable.
absl::Status RegisterProcessMetrics(Registry* registry);

}  // namespace mivla::metrics

#endif  // MIVLA_CORE_METRICS_PROCESS_METRICS_H_
