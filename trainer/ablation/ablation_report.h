// File: ablation_report.h
// The ablation's report stage: from the plan and the done markers of its stages it writes, into the
// output folder,
//   results.json  variants, per (variant, mode, task) success rate / completeness / time to success,
//                 means over tasks, training runs (steps, losses, seconds), data sets, compute
//   results.md    the tables (success rate per task and mean, per variant, easy and hard, as the
//                 paper's tables 1 and 3; completeness; time to success; training; compute) and the
//                 order of the variants by mean success
//   ablation.png  ablation_plot.h
// Thread-compatible.
#ifndef MIVLA_TRAINER_ABLATION_ABLATION_REPORT_H_
#define MIVLA_TRAINER_ABLATION_ABLATION_REPORT_H_

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "trainer/ablation/ablation_config.h"
#include "trainer/ablation/stage_plan.h"
#include "trainer/ablation/stage_store.h"

namespace mivla::trainer::ablation {

/// The results.json object. FAILED_PRECONDITION naming the first eval or training stage without a
/// done marker under the current spec.
absl::StatusOr<nlohmann::json> CollectResults(const AblationConfig& config, const Plan& plan,
                                              const StageStore& store);

/// results.md's text from CollectResults' object.
std::string ResultsMarkdown(const nlohmann::json& results);

/// Writes results.json, results.md and ablation.png (atomically); returns the report stage's result
/// (paths and the mean success per variant and mode).
absl::StatusOr<nlohmann::json> WriteReport(const AblationConfig& config, const Plan& plan, const StageStore& store);

}  // namespace mivla::trainer::ablation

#endif  // MIVLA_TRAINER_ABLATION_ABLATION_REPORT_H_
