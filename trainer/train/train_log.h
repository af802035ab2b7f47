// File: train_log.h
// The training run's records in the output directory (rank 0 only):
//   train_log.csv   one row per logged step: step, loss terms, lr, grad norm, samples/s, time split
//   loss_curve.png  total and per-term loss against step (OpenCV drawing), redrawn at each checkpoint
// and the progress on stderr: a bar redrawn in place with ETA, loss and samples/s when stderr is a
// terminal, otherwise one plain line every log step.
// A resumed run reopens the CSV, drops rows after the resumed step and appends. Thread-compatible.
#ifndef MIVLA_TRAINER_TRAIN_TRAIN_LOG_H_
#define MIVLA_TRAINER_TRAIN_TRAIN_LOG_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace mivla::trainer {

struct StepRecord {
  int64_t step = 0;  // after the update
  double loss = 0, robot = 0, robot_to_human = 0, human = 0, human_to_robot = 0;
  double lr = 0, grad_norm = 0, samples_per_s = 0;
  double data_s = 0, forward_s = 0, backward_s = 0, optimizer_s = 0;  // this step's time split
};

class TrainLog {
 public:
  struct Options {
    std::string dir;            // empty: no files (ranks other than 0)
    int64_t first_step = 0;     // resumed step (CSV rows after it are dropped)
    int64_t last_step = 0;      // the run's target step (progress and ETA)
    bool progress = true;
    std::FILE* out = stderr;
    int tty = -1;               // -1: isatty(out)
  };
  explicit TrainLog(Options options);

  /// Appends to the CSV and the curve's history; prints a plain line (not a TTY) or redraws the bar.
  absl::Status Record(const StepRecord& r);
  /// Redraws the bar only (every step on a TTY; cheap).
  void Tick(const StepRecord& r);
  /// Writes loss_curve.png from the whole history.
  absl::Status WriteCurve() const;
  void Finish();

  const std::vector<StepRecord>& history() const { return history_; }

 private:
  std::string Line(const StepRecord& r) const;
  Options options_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::vector<StepRecord> history_;
  bool drawn_ = false;
};

/// Renders loss curves (total plus terms that are not all zero) with a log-scale y axis.
absl::Status WriteLossCurvePng(const std::string& path, const std::vector<StepRecord>& history);

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_TRAIN_LOG_H_
