// File: ablation_cli.h
// `mivla-train ablation --config FILE [--budget-minutes M] [--only GLOB] [--dry-run] [--bin-dir DIR]`:
// flags, the configuration (checked, including its task and embodiment names against
// `mivla-datagen --list`), the plan, signals (SIGINT / SIGTERM stop the running stage cleanly), and
// the runner. Exit codes: 0 every stage done (or --dry-run), 1 a stage failed (the message names the
// stage, the command and its log), 2 bad flags or configuration (file and field named), 3 stopped
// with stages left (budget spent or a signal): run the same command again to continue.
// Not thread-safe (installs signal handlers).
#ifndef MIVLA_TRAINER_ABLATION_ABLATION_CLI_H_
#define MIVLA_TRAINER_ABLATION_ABLATION_CLI_H_

#include <string>
#include <vector>

namespace mivla::trainer::ablation {

/// `args`: the arguments after "ablation". `self`: this binary's path (the sibling binaries
/// mivla-datagen, mivla-server, mivla-eval are looked up beside it unless --bin-dir is given).
int AblationMain(const std::vector<std::string>& args, const std::string& self);

}  // namespace mivla::trainer::ablation

#endif  // MIVLA_TRAINER_ABLATION_ABLATION_CLI_H_
