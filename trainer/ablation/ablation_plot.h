// File: ablation_plot.h
// ablation.png (OpenCV): top, the success rate per task (and the mean) for every variant as grouped
// bars, one panel per evaluation mode; bottom, the training loss (total, log scale) against step of
// every pre-training run and of every fine-tuning run, read from their train_log.csv files (the
// trainer's own records; trainer/train/train_log.h draws one run's terms, this draws the runs
// side by side). Thread-safe (pure function of its inputs and the files it reads).
#ifndef MIVLA_TRAINER_ABLATION_ABLATION_PLOT_H_
#define MIVLA_TRAINER_ABLATION_ABLATION_PLOT_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace mivla::trainer::ablation {

/// (step, total loss) rows of <dir>/train_log.csv; empty when the file is missing.
std::vector<std::pair<int64_t, double>> ReadLossCurve(const std::string& dir);

/// Draws `results` (CollectResults' object; its "training" entries name the run folders) to `path`.
/// INTERNAL naming the path when it cannot be written.
absl::Status WriteAblationPng(const nlohmann::json& results, const std::string& path);

}  // namespace mivla::trainer::ablation

#endif  // MIVLA_TRAINER_ABLATION_ABLATION_PLOT_H_
