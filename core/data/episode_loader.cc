#include "core/data/episode_loader.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "core/data/egodex_format.h"
#include "core/data/hdf5_file.h"
#include "core/data/native_format.h"
#include "core/data/robotwin_format.h"
#include "core/util/status_macros.h"

namespace mivla::data {

const char* EpisodeFormatName(EpisodeFormat f) {
  switch (f) {
    case EpisodeFormat::kEgoDex: return "egodex";
    case EpisodeFormat::kRoboTwin: return "robotwin";
    case EpisodeFormat::kNative: return "native";
    case EpisodeFormat::kUnknown: break;
  }
  return "unknown";
}

absl::StatusOr<EpisodeFormat> DetectFormat(const std::string& path) {
  ASSIGN_OR_RETURN(auto f, Hdf5File::Open(path));
  if (f->ReadStringAttribute("/", "mivla_format").ok()) return EpisodeFormat::kNative;
  if (f->IsGroup("transforms")) return EpisodeFormat::kEgoDex;
  if (f->IsGroup("joint_action")) return EpisodeFormat::kRoboTwin;
  return EpisodeFormat::kUnknown;
}

absl::StatusOr<UnifiedEpisode> LoadUnifiedEpisode(const std::string& path, const LoadOptions& options) {
  EpisodeFormat ignored;
  return LoadUnifiedEpisode(path, options, &ignored);
}

absl::StatusOr<UnifiedEpisode> LoadUnifiedEpisode(const std::string& path, const LoadOptions& options,
                                                  EpisodeFormat* format) {
  ASSIGN_OR_RETURN(*format, DetectFormat(path));
  absl::StatusOr<UnifiedEpisode> out;
  switch (*format) {
    case EpisodeFormat::kNative: {
      NativeReadOptions o;
      o.load_images = options.load_images;
      o.max_image_frames = options.max_image_frames;
      o.embodiment_dir = options.embodiment_dir;
      out = ReadNativeEpisode(path, o);
      break;
    }
    case EpisodeFormat::kEgoDex: {
      EgoDexReadOptions o;
      o.load_video = options.load_images;
      o.max_video_frames = options.max_image_frames;
      ASSIGN_OR_RETURN(HumanEpisode e, ReadEgoDexEpisode(path, o));
      out = UnifyHumanEpisode(e, options.frame);
      break;
    }
    case EpisodeFormat::kRoboTwin: {
      RoboTwinReadOptions o;
      o.default_embodiment = options.robotwin_default_embodiment;
      o.load_images = options.load_images;
      o.max_image_frames = options.max_image_frames;
      o.embodiment_dir = options.embodiment_dir;
      ASSIGN_OR_RETURN(RobotEpisode e, ReadRoboTwinEpisode(path, o));
      out = UnifyRobotEpisode(e, options.embodiment_dir);
      break;
    }
    case EpisodeFormat::kUnknown:
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": unknown episode format (no 'mivla_format' attribute, 'transforms' or "
                             "'joint_action' group)"));
  }
  if (!out.ok()) {
    const std::string msg(out.status().message());
    if (msg.rfind(path, 0) == 0) return out.status();  // already names the file
    return absl::Status(out.status().code(), absl::StrCat(path, ": ", msg));
  }
  out->source = path;
  return out;
}

absl::StatusOr<std::vector<std::string>> ListEpisodeFiles(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::NotFoundError(absl::StrCat(dir, ": not a directory"));
  std::vector<std::string> out;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string ext = it->path().extension().string();
    if (ext == ".hdf5" || ext == ".h5") out.push_back(it->path().string());
  }
  if (ec) return absl::InternalError(absl::StrCat(dir, ": cannot list: ", ec.message()));
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<Dataset> LoadDataset(const std::string& dir, const DatasetOptions& options) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, ListEpisodeFiles(dir));
  Dataset d;
  for (size_t i = 0; i < files.size(); ++i) {
    auto e = LoadUnifiedEpisode(files[i], options.load);
    if (e.ok()) {
      d.episodes.push_back(std::move(*e));
    } else {
      DatasetError err{files[i], std::string(e.status().message())};
      if (err.reason.rfind(files[i] + ": ", 0) == 0) err.reason = err.reason.substr(files[i].size() + 2);
      if (options.on_skip) {
        options.on_skip(err);
      } else {
        std::cerr << "skipping " << err.path << ": " << err.reason << "\n";
      }
      d.skipped.push_back(std::move(err));
    }
    if (options.on_progress) options.on_progress(static_cast<int>(i + 1), static_cast<int>(files.size()), files[i]);
  }
  return d;
}

}  // namespace mivla::data
