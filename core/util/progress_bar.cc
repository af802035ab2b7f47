// File: progress_bar.cc
#include "core/util/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mivla {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return absl::StrFormat("%.1fs", seconds);
  const long s = std::lround(seconds);
  if (s < 3600) return absl::StrFormat("%ldm%02lds", s / 60, s % 60);
  return absl::StrFormat("%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

std::string FormatProgress(int done, int total, const std::string& unit, double elapsed_s, const std::string& note) {
  constexpr int kWidth = 20;
  total = std::max(total, 1);
  const int filled = std::clamp(done * kWidth / total, 0, kWidth);
  const std::string eta = done > 0 ? FormatDuration(elapsed_s / done * (total - done)) : "?";
  std::string line = absl::StrFormat("[%s%s] %d/%d %s %3d%%  elapsed %s  ETA %s", std::string(filled, '#'),
                                     std::string(kWidth - filled, '-'), done, total, unit, done * 100 / total,
                                     FormatDuration(elapsed_s), eta);
  if (!note.empty()) absl::StrAppend(&line, "  ", note);
  return line;
}

ProgressBar::ProgressBar(Options options)
    : options_(options),
      tty_(options.tty >= 0 ? options.tty == 1 : isatty(fileno(options.out)) == 1),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::Update(int done, const std::string& note) {
  if (!options_.enabled) return;
  absl::MutexLock lock(&mu_);
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::string line = FormatProgress(done, options_.total, options_.unit, elapsed, note);
  if (!tty_) {
    std::fprintf(options_.out, "%s\n", line.c_str());
  } else {
    if (drawn_ && done < options_.total && now - last_draw_ < std::chrono::milliseconds(200)) return;
    std::fprintf(options_.out, "\r%s\033[K", line.c_str());
    drawn_ = true;
    last_draw_ = now;
  }
  std::fflush(options_.out);
}

void ProgressBar::Finish() {
  if (!options_.enabled) return;
  absl::MutexLock lock(&mu_);
  if (tty_ && drawn_) std::fprintf(options_.out, "\n");
  std::fflush(options_.out);
}

}  // namespace mivla
