#include "core/metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"

namespace mivla::metrics {
namespace {

// Seconds since the epoch at which the system booted (`btime` in /proc/stat).
absl::StatusOr<double> BootTimeSeconds() {
  ASSIGN_OR_RETURN(std::string stat, ReadFile("/proc/stat"));
  std::istringstream lines(stat);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return absl::InternalError("no btime in /proc/stat");
}

double CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the descriptor opendir itself holds
}

}  // namespace

absl::StatusOr<ProcessStats> ReadProcessStats() {
  ProcessStats stats;
  const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));

  ASSIGN_OR_RETURN(std::string statm, ReadFile("/proc/self/statm"));
  std::istringstream statm_in(statm);
  double size_pages = 0, resident_pages = 0;
  if (!(statm_in >> size_pages >> resident_pages)) {
    return absl::InternalError("cannot parse /proc/self/statm");
  }
  stats.virtual_memory_bytes = size_pages * page_size;
  stats.resident_memory_bytes = resident_pages * page_size;

  // /proc/self/stat: "pid (comm) state ..." where comm may hold spaces; fields after ')' start at 3.
  ASSIGN_OR_RETURN(std::string stat, ReadFile("/proc/self/stat"));
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return absl::InternalError("cannot parse /proc/self/stat");
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0, starttime = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stod(field);
    if (index == 15) stime = std::stod(field);
    if (index == 22) {
      starttime = std::stod(field);
      break;
    }
  }
  stats.cpu_seconds = (utime + stime) / ticks;
  ASSIGN_OR_RETURN(double boot_time, BootTimeSeconds());
  stats.start_time_seconds = boot_time + starttime / ticks;

  stats.open_fds = CountOpenFds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) stats.max_fds = static_cast<double>(limit.rlim_cur);
  return stats;
}

absl::Status RegisterProcessMetrics(Registry* registry) {
  RETURN_IF_ERROR(ReadProcessStats().status());
  auto gauge = [registry](const char* name, const char* help) -> absl::StatusOr<Gauge*> {
    ASSIGN_OR_RETURN(Family<Gauge> * family, registry->AddGauge(name, help, {}));
    return family->WithLabels({});
  };
  ASSIGN_OR_RETURN(Gauge * resident, gauge("process_resident_memory_bytes",
                                           "Resident memory size in bytes."));
  ASSIGN_OR_RETURN(Gauge * virt, gauge("process_virtual_memory_bytes",
                                       "Virtual memory size in bytes."));
  ASSIGN_OR_RETURN(Gauge * open_fds, gauge("process_open_fds", "Number of open file descriptors."));
  ASSIGN_OR_RETURN(Gauge * max_fds, gauge("process_max_fds",
                                          "Maximum number of open file descriptors."));
  ASSIGN_OR_RETURN(Gauge * start_time,
                   gauge("process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds."));
  ASSIGN_OR_RETURN(Family<Counter> * cpu_family,
                   registry->AddCounter("process_cpu_seconds_total",
                                        "Total user and system CPU time spent in seconds.", {}));
  ASSIGN_OR_RETURN(Counter * cpu, cpu_family->WithLabels({}));

  // The counter only moves forward: add the CPU time used since the last refresh.
  auto last_cpu = std::make_shared<double>(0.0);
  registry->AddCollectHook([=] {
    absl::StatusOr<ProcessStats> stats = ReadProcessStats();
    if (!stats.ok()) return;
    resident->Set(stats->resident_memory_bytes);
    virt->Set(stats->virtual_memory_bytes);
    open_fds->Set(stats->open_fds);
    max_fds->Set(stats->max_fds);
    start_time->Set(stats->start_time_seconds);
    if (stats->cpu_seconds > *last_cpu) {
      cpu->Inc(stats->cpu_seconds - *last_cpu);
      *last_cpu = stats->cpu_seconds;
    }
  });
  return absl::OkStatus();
}

}  // namespace mivla::metrics
