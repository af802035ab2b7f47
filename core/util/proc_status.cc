// File: proc_status.cc
#include "core/util/proc_status.h"

#include <charconv>
#include <string>

#include "absl/status/statusor.h"
#include "core/util/read_file.h"

namespace mivla {
namespace {

std::string_view Trim(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

int64_t StatusFieldBytes(std::string_view status, std::string_view key) {
  while (!status.empty()) {
    const size_t eol = status.find('\n');
    std::string_view line = status.substr(0, eol);
    status = eol == std::string_view::npos ? std::string_view() : status.substr(eol + 1);
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    std::string_view value = Trim(line.substr(key.size() + 1));
    int64_t kb = -1;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), kb);
    if (error != std::errc() || kb < 0) return -1;
    if (Trim(std::string_view(end, value.data() + value.size() - end)) != "kB") return -1;
    return kb * 1024;
  }
  return -1;
}

ProcMemory ParseProcMemory(std::string_view status) {
  ProcMemory m;
  m.rss = StatusFieldBytes(status, "VmRSS");
  m.rss_anon = StatusFieldBytes(status, "RssAnon");
  m.rss_file = StatusFieldBytes(status, "RssFile");
  m.rss_shmem = StatusFieldBytes(status, "RssShmem");
  m.peak = StatusFieldBytes(status, "VmHWM");
  return m;
}

ProcMemory ReadProcMemory() {
  absl::StatusOr<std::string> status = ReadFile("/proc/self/status");
  return status.ok() ? ParseProcMemory(*status) : ProcMemory();
}

int64_t ProcStatusBytes(std::string_view key) {
  absl::StatusOr<std::string> status = ReadFile("/proc/self/status");
  return status.ok() ? StatusFieldBytes(*status, key) : -1;
}

}  // namespace mivla
