// File: log.h
// Minimal line logger for binaries and long-running services: one line per event on stderr,
//   2026-11-22T10:15:02.123456Z I model_manager: loaded model version tiny-000100 from /models/a.mivla
// Each line is written with one fwrite, so lines from concurrent threads never interleave.
//
//   LogInfo("model_manager", absl::StrCat("loaded ", version));
//   LogError("server", status.ToString());
//
// Thread-safe. SetLogQuiet(true) drops info lines (tests and benchmarks that want a quiet stderr);
// SetLogFile(f) sends every line to `f` instead (mivla-demo keeps its robots' lines in a file beside its
// report, so the terminal shows progress and results).
#ifndef MIVLA_CORE_UTIL_LOG_H_
#define MIVLA_CORE_UTIL_LOG_H_

#include <cstdio>
#include <string>

namespace mivla {

enum class LogLevel { kInfo, kWarning, kError };

void Log(LogLevel level, const std::string& component, const std::string& message);
inline void LogInfo(const std::string& c, const std::string& m) { Log(LogLevel::kInfo, c, m); }
inline void LogWarning(const std::string& c, const std::string& m) { Log(LogLevel::kWarning, c, m); }
inline void LogError(const std::string& c, const std::string& m) { Log(LogLevel::kError, c, m); }
void SetLogQuiet(bool quiet);
/// Where lines go from now on (borrowed; must stay open while it is set); nullptr: stderr again.
void SetLogFile(std::FILE* file);

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_LOG_H_
