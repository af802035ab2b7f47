// File: episode_loader.h
// Format detection and loading of one episode file of any supported format into a UnifiedEpisode, and
// of a dataset directory: every episode file under it is loaded; a corrupt or truncated one is
// reported (path + reason) and skipped, the rest load. Functions are thread-safe.
//
// Detection (HDF5 files only): root attribute `mivla_format` -> native; group `transforms` -> EgoDex;
// group `joint_action` -> RoboTwin; else unknown. Episode files: *.hdf5 / *.h5.
//
//   ASSIGN_OR_RETURN(Dataset d, LoadDataset("datasets/sim", {}));
//   for (const DatasetError& e : d.skipped) std::cerr << e.path << ": " << e.reason << "\n";
#ifndef MIVLA_CORE_DATA_EPISODE_LOADER_H_
#define MIVLA_CORE_DATA_EPISODE_LOADER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/unified_episode.h"

namespace mivla::data {

enum class EpisodeFormat { kUnknown, kEgoDex, kRoboTwin, kNative };
const char* EpisodeFormatName(EpisodeFormat f);  // "unknown", "egodex", "robotwin", "native"

/// Opens the file to look at its keys; errors for unreadable / non-HDF5 / truncated files.
absl::StatusOr<EpisodeFormat> DetectFormat(const std::string& path);

struct LoadOptions {
  HumanFrame frame = HumanFrame::kWorld;  // EgoDex hand slices
  bool load_images = true;                // false: camera sizes only
  int max_image_frames = -1;              // -1: all frames
  action::Embodiment robotwin_default_embodiment = action::Embodiment::kAlohaAgilex;
  std::string embodiment_dir;             // "" = core/kinematics default
};

/// Detects, reads and unifies one episode. Errors name the file.
absl::StatusOr<UnifiedEpisode> LoadUnifiedEpisode(const std::string& path, const LoadOptions& options);
/// Same, also returning the detected format.
absl::StatusOr<UnifiedEpisode> LoadUnifiedEpisode(const std::string& path, const LoadOptions& options,
                                                  EpisodeFormat* format);

struct DatasetError {
  std::string path;
  std::string reason;
};

struct Dataset {
  std::vector<UnifiedEpisode> episodes;  // in sorted path order
  std::vector<DatasetError> skipped;
};

struct DatasetOptions {
  LoadOptions load;
  /// Called after each file (done, total, path); e.g. a progress bar. May be empty.
  std::function<void(int, int, const std::string&)> on_progress;
  /// Called for each skipped file; when empty, a line "skipping <path>: <reason>" goes to stderr.
  std::function<void(const DatasetError&)> on_skip;
};

/// All episode file paths under `dir` (recursive), sorted.
absl::StatusOr<std::vector<std::string>> ListEpisodeFiles(const std::string& dir);
/// Loads every episode under `dir`. Fails only when `dir` cannot be listed.
absl::StatusOr<Dataset> LoadDataset(const std::string& dir, const DatasetOptions& options);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_EPISODE_LOADER_H_
