// File: progress_bar.h
// Progress with ETA for long runs (mivla-datagen, mivla-eval, mivla-demo), on stderr: on a terminal one
// bar redrawn in place (at most 5 times a second), otherwise one plain line per update, so logs stay
// readable.
//   [##########----------] 5/10 episodes  50%  elapsed 12.0s  ETA 12.0s  <note>
// The ETA is elapsed / done * remaining. Thread-safe (updates from worker threads are serialised).
#ifndef MIVLA_CORE_UTIL_PROGRESS_BAR_H_
#define MIVLA_CORE_UTIL_PROGRESS_BAR_H_

#include <chrono>
#include <cstdio>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace mivla {

/// One progress line (no terminal control characters). `total` > 0; `unit` names what is counted.
std::string FormatProgress(int done, int total, const std::string& unit, double elapsed_s, const std::string& note);
/// "12.0s", "3m05s", "1h02m".
std::string FormatDuration(double seconds);

class ProgressBar {
 public:
  struct Options {
    int total = 0;
    bool enabled = true;
    std::FILE* out = stderr;
    int tty = -1;  // -1: detect with isatty(out); 0/1: force
    std::string unit = "episodes";
  };
  explicit ProgressBar(Options options);

  /// Reports `done` of `total` finished; `note` ends the line.
  void Update(int done, const std::string& note = "");
  /// Ends the bar's line on a terminal.
  void Finish();

 private:
  const Options options_;
  const bool tty_;
  const std::chrono::steady_clock::time_point start_;
  absl::Mutex mu_;
  std::chrono::steady_clock::time_point last_draw_ ABSL_GUARDED_BY(mu_);
  bool drawn_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_PROGRESS_BAR_H_
