// File: flags.h
// Command-line parsing for mivla-datagen: the three modes (generate, --list, --preview), their
// options, and the lower-case embodiment names of the CLI (human, piper, arx5, locoman, aloha).
// Every error names the flag and the reason (and, for names, the valid choices); the CLI turns them
// into exit code 2. Pure functions; thread-safe.
//
//   ASSIGN_OR_RETURN(DatagenFlags f, ParseDatagenFlags(args));   // args without argv[0]
#ifndef MIVLA_TRAINER_DATAGEN_FLAGS_H_
#define MIVLA_TRAINER_DATAGEN_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "sim/scene.h"

namespace mivla::datagen {

/// "human", "aloha", "piper", "arx5", "locoman".
std::string CliEmbodimentName(action::Embodiment e);
/// Parses a lower-case CLI name; InvalidArgument listing the valid names otherwise.
absl::StatusOr<action::Embodiment> ParseCliEmbodiment(const std::string& name);
/// The CLI names of the embodiments that can do `task` (InvalidArgument for an unknown task, listing
/// the tasks).
absl::StatusOr<std::vector<std::string>> TaskEmbodimentNames(const std::string& task);
/// {"tasks": [{"name": ..., "embodiments": [...]}]} for every task, as printed by --list.
std::string ListJson();

struct GenerateOptions {
  std::string task;
  action::Embodiment embodiment = action::Embodiment::kPiper;
  sim::Mode mode = sim::Mode::kEasy;
  int episodes = 0;
  uint64_t seed = 0;
  std::string out_dir;
  int workers = 1;
  int max_attempts = 5;   // expert attempts per episode before it is reported as failed
  bool progress = true;   // progress bar on stderr
  // Expert takeover (generator.h, takeover.h): a policy served here drives first, the expert finishes.
  std::string policy_server;  // HOST:PORT; empty = the expert alone
  std::string robot_config;   // the robot client's file; empty = client/config/<embodiment>.json
  int takeover_min_ticks = 10, takeover_max_ticks = 120;
};

struct PreviewOptions {
  std::string out_png;
  uint64_t seed = 0;
  std::string task;    // "" = every task
  double scale = 0.75; // tile size relative to the 320x240 frames
};

struct DatagenFlags {
  enum class Command { kGenerate, kList, kPreview, kHelp } command = Command::kGenerate;
  GenerateOptions generate;
  PreviewOptions preview;
};

/// The usage text printed by --help and after flag errors.
std::string DatagenUsage();

/// Parses the arguments (without the program name). InvalidArgument names the flag and the reason:
/// an unknown flag, a missing value or required flag, a bad number, an unknown task or embodiment,
/// an embodiment the task does not support.
absl::StatusOr<DatagenFlags> ParseDatagenFlags(const std::vector<std::string>& args);

}  // namespace mivla::datagen

#endif  // MIVLA_TRAINER_DATAGEN_FLAGS_H_
