#include "core/util/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mivla {
namespace {
std::atomic<bool> quiet{false};
std::atomic<std::FILE*> file{nullptr};
}  // namespace

void SetLogQuiet(bool q) { quiet.store(q); }
void SetLogFile(std::FILE* f) { file.store(f); }

void Log(LogLevel level, const std::string& component, const std::string& message) {
  if (level == LogLevel::kInfo && quiet.load()) return;
  const char tag = level == LogLevel::kInfo ? 'I' : level == LogLevel::kWarning ? 'W' : 'E';
  std::string line = absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()),
                                  " ", std::string(1, tag), " ", component, ": ", message, "\n");
  std::FILE* out = file.load();
  std::fwrite(line.data(), 1, line.size(), out != nullptr ? out : stderr);
}

}  // namespace mivla
