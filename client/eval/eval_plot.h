// File: eval_plot.h
// The evaluation's picture (mivla-eval --out DIR -> eval.png): one row per task with its metrics, the
// sampled head-camera frames of its first episode, and a top-down plot (world x-y) of the end-effector
// traces of its traced episodes (green: success, red: failure; a dot marks the start). mivla-demo's
// picture (WriteRowsPng) has the same rows, labelled per robot, and a histogram of round-trip latencies.
// OpenCV. Thread-safe (pure functions).
#ifndef MIVLA_CLIENT_EVAL_EVAL_PLOT_H_
#define MIVLA_CLIENT_EVAL_EVAL_PLOT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/eval/evaluator.h"

namespace mivla::client {

absl::Status WriteEvalPng(const EvalReport& report, const std::string& title, const std::string& path);

/// A row of the picture: a label line, then the task's sampled frames and its traces (borrowed).
struct PlotRow {
  std::string label;
  const TaskReport* task = nullptr;
};

/// Round-trip latencies (ms) of one robot, drawn as one line of the histogram.
struct LatencySeries {
  std::string name;
  std::vector<double> ms;
};

/// The rows, then (when `latency` is not empty) a histogram of each series over log-spaced bins.
absl::Status WriteRowsPng(const std::vector<PlotRow>& rows, const std::vector<LatencySeries>& latency,
                          const std::string& title, const std::string& path);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_EVAL_EVAL_PLOT_H_
