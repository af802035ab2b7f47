// File: stage_exec.h
// Runs one stage of the plan (stage_plan.h) through its child programs and returns its result JSON:
//   data      mivla-datagen; result from its summary.json (episodes, frames, seconds); progress =
//             finished episode files / episodes
//   training  writes the generated train config, runs mivla-train with --resume; done when it exits 0
//             and its final checkpoint exists; result from its summary.json; progress = last step in
//             train_log.csv / steps
//   eval      hard-links the fine-tuned checkpoint into <out>/serve/<v>/, starts mivla-server on it
//             (port 0; waits for its "listening" line and for mivla_model_info on /metrics), runs
//             mivla-eval against it, SIGTERMs the server; result from eval.json
// When `should_stop` turns true the running child gets SIGTERM (mivla-train then stops after its
// current step and writes a checkpoint, which the next call resumes from), SIGKILL after the grace
// time, and the outcome is kStopped. A failed child is an error naming the stage, the command, how it
// ended and its log file.
// Thread-compatible; blocks until the stage ends.
#ifndef MIVLA_TRAINER_ABLATION_STAGE_EXEC_H_
#define MIVLA_TRAINER_ABLATION_STAGE_EXEC_H_

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "trainer/ablation/stage_plan.h"

namespace mivla::trainer::ablation {

struct ExecOptions {
  std::function<bool()> should_stop;                       // polled every 0.2 s
  std::function<void(double fraction, const std::string& detail)> on_progress;  // ~every second
  double stop_grace_s = 300;                               // SIGTERM -> SIGKILL
  double server_start_timeout_s = 120;
};

enum class ExecOutcome { kDone, kStopped };

struct ExecResult {
  ExecOutcome outcome = ExecOutcome::kDone;
  nlohmann::json result = nlohmann::json::object();
};

/// Data, training and eval stages (the report stage is ablation_report.h's).
absl::StatusOr<ExecResult> RunStage(const Stage& stage, const ExecOptions& options);

/// The step of the last row of <dir>/train_log.csv (-1 when there is none).
int64_t LastLoggedStep(const std::string& dir);

}  // namespace mivla::trainer::ablation

#endif  // MIVLA_TRAINER_ABLATION_STAGE_EXEC_H_
