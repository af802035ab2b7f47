// File: ablation_runner.h
// `mivla-train ablation`'s driver: runs the plan's stages in order, skipping finished ones (done
// marker under the same spec hash), resuming unfinished trainings from their own state, within an
// optional time budget, and keeps the terminal and <output_dir>/progress.json up to date (per stage:
// status, seconds, result; ETA per stage and overall).
//
//   RunnerOptions o; o.budget_s = 7200; o.interrupted = &g_interrupted;
//   ASSIGN_OR_RETURN(RunnerOutcome r, RunAblation(config, plan, o));
//
// Budget / signals: when the deadline passes or `interrupted` turns true, the running child gets
// SIGTERM (a training saves its state after its current step), the stage is recorded as partial with
// its seconds so far, and RunAblation returns with stopped = true and the list of what is left.
// A failed stage is an error naming the stage, the command and its log file; finished stages stay.
// One run per output folder at a time (an flock on <output_dir>/.lock).
// Thread-compatible (one thread).
#ifndef MIVLA_TRAINER_ABLATION_ABLATION_RUNNER_H_
#define MIVLA_TRAINER_ABLATION_ABLATION_RUNNER_H_

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/ablation/ablation_config.h"
#include "trainer/ablation/stage_plan.h"

namespace mivla::trainer::ablation {

struct RunnerOptions {
  double budget_s = 0;                          // 0: no budget
  std::string only;                             // fnmatch glob over stage names; "" = every stage
  bool dry_run = false;                         // print the plan and the status of each stage only
  std::FILE* out = stderr;
  int tty = -1;                                 // -1: isatty(out)
  const std::atomic<bool>* interrupted = nullptr;
  double status_every_s = 30;                   // plain progress lines when not a terminal
};

struct RunnerOutcome {
  int done_before = 0;                          // stages finished by earlier calls (skipped)
  int done_now = 0;                             // finished in this call
  bool stopped = false;                         // budget spent or interrupted with stages left
  std::vector<std::string> left;                // unfinished stages (within --only)
};

absl::StatusOr<RunnerOutcome> RunAblation(const AblationConfig& config, const Plan& plan,
                                          const RunnerOptions& options);

}  // namespace mivla::trainer::ablation

#endif  // MIVLA_TRAINER_ABLATION_ABLATION_RUNNER_H_
