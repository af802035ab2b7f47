// File: proc_status.h
// Memory figures of this process from /proc/self/status (Linux): resident memory (VmRSS) and its parts
// (RssAnon: the heap, stacks and other private memory; RssFile: pages of mapped files such as the
// shared libraries' code, which grow as new code paths run and are not leaks), and the peak (VmHWM).
// The one parser of that file the benchmarks and tests share.
//
//   const int64_t rss = ProcStatusBytes("VmRSS");  // -1 when unknown
//   const ProcMemory m = ReadProcMemory();          // several figures from one read
//   std::printf("%.1f MiB", MibOrUnknown(m.rss));   // -1 stays -1
//
// Thread safety: pure functions of the file's state; callable from any thread.
#ifndef MIVLA_CORE_UTIL_PROC_STATUS_H_
#define MIVLA_CORE_UTIL_PROC_STATUS_H_

#include <cstdint>
#include <string_view>

namespace mivla {

/// The "<key>: <n> kB" line of /proc/self/status in bytes; -1 when the file cannot be read, the line is
/// absent, or its value is not in kB.
int64_t ProcStatusBytes(std::string_view key);

/// The same, read from `status` (the text of a /proc/<pid>/status file).
int64_t StatusFieldBytes(std::string_view status, std::string_view key);

/// The memory figures of one read of /proc/self/status, in bytes (-1 where absent), so that they agree
/// with each other: rss = rss_anon + rss_file + rss_shmem, peak >= rss.
struct ProcMemory {
  int64_t rss = -1;        // VmRSS
  int64_t rss_anon = -1;   // RssAnon
  int64_t rss_file = -1;   // RssFile
  int64_t rss_shmem = -1;  // RssShmem
  int64_t peak = -1;       // VmHWM
};
ProcMemory ReadProcMemory();
/// The same from `status`.
ProcMemory ParseProcMemory(std::string_view status);

/// Bytes in a MiB: the benchmarks print memory in MiB.
inline constexpr double kBytesPerMib = 1024.0 * 1024.0;
/// A byte count in MiB; a negative count (-1: unknown) gives -1.
inline double MibOrUnknown(double bytes) { return bytes < 0 ? -1 : bytes / kBytesPerMib; }

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_PROC_STATUS_H_
