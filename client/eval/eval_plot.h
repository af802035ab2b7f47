// File: eval_plot.h
// The evaluation's picture (mivla-eval --out DIR -> eval.png): one row per task with its metrics, the
// sampled head-camera frames of its first episode, and a top-down plot (world x-y) of the end-effector
// traces of its traced episodes (green: success, red: failure; a dot marks the start). OpenCV.
// Thread-safe (pure function).
#ifndef MIVLA_CLIENT_EVAL_EVAL_PLOT_H_
#define MIVLA_CLIENT_EVAL_EVAL_PLOT_H_

#include <string>

#include "absl/status/status.h"
#include "client/eval/evaluator.h"

namespace mivla::client {

absl::Status WriteEvalPng(const EvalReport& report, const std::string& title, const std::string& path);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_EVAL_EVAL_PLOT_H_
