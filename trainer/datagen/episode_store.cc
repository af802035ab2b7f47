// File: episode_store.cc
#include "trainer/datagen/episode_store.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "core/data/egodex_format.h"
#include "core/data/robotwin_format.h"
#include "core/util/status_macros.h"
#include "trainer/datagen/flags.h"

namespace mivla::datagen {
namespace fs = std::filesystem;

namespace {

bool IsHuman(action::Embodiment e) { return e == action::Embodiment::kHuman; }

absl::Status Rename(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(fs::path(to).parent_path(), ec);
  if (ec) return absl::InternalError(absl::StrCat(fs::path(to).parent_path().string(), ": cannot create: ", ec.message()));
  fs::rename(from, to, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot rename ", from, " to ", to, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

EpisodeStore::EpisodeStore(std::string out_dir, std::string task, action::Embodiment embodiment, sim::Mode mode)
    : out_dir_(std::move(out_dir)),
      task_(std::move(task)),
      embodiment_(embodiment),
      config_(mode == sim::Mode::kHard ? "demo_randomized" : "demo_clean") {}

std::string EpisodeStore::EpisodeDir() const {
  if (IsHuman(embodiment_)) return (fs::path(out_dir_) / ("human_" + config_) / task_).string();
  return (fs::path(out_dir_) / task_ / (CliEmbodimentName(embodiment_) + "_" + config_)).string();
}

std::string EpisodeStore::HdfPath(int index) const {
  if (IsHuman(embodiment_)) return (fs::path(EpisodeDir()) / absl::StrCat(index, ".hdf5")).string();
  return data::RoboTwinEpisodePath(EpisodeDir(), index);
}

std::string EpisodeStore::CompanionPath(int index) const {
  if (IsHuman(embodiment_)) return data::EgoDexVideoPath(HdfPath(index));
  return data::RoboTwinInstructionPath(HdfPath(index));
}

std::string EpisodeStore::PartialRoot() const { return (fs::path(out_dir_) / ".partial").string(); }

std::string EpisodeStore::PartialDir(int index) const {
  const fs::path rel = fs::path(EpisodeDir()).lexically_relative(out_dir_);
  return (fs::path(PartialRoot()) / rel / std::to_string(index)).string();
}

absl::StatusOr<int> EpisodeStore::Finished(int index) const {
  const std::string hdf = HdfPath(index), companion = CompanionPath(index);
  std::error_code ec;
  if (!fs::is_regular_file(hdf, ec)) return absl::NotFoundError(absl::StrCat(hdf, ": not written yet"));
  if (!fs::is_regular_file(companion, ec)) return absl::NotFoundError(absl::StrCat(companion, ": not written yet"));
  if (IsHuman(embodiment_)) {
    data::EgoDexReadOptions o;
    o.max_video_frames = 1;
    o.require_video = true;
    absl::StatusOr<data::HumanEpisode> e = data::ReadEgoDexEpisode(hdf, o);
    if (!e.ok()) return absl::DataLossError(std::string(e.status().message()));
    if (e->video.frames.empty()) return absl::DataLossError(absl::StrCat(companion, ": no video frames"));
    return e->num_frames();
  }
  data::RoboTwinReadOptions o;
  o.max_image_frames = 1;
  o.default_embodiment = embodiment_;
  absl::StatusOr<data::RobotEpisode> e = data::ReadRoboTwinEpisode(hdf, o);
  if (!e.ok()) return absl::DataLossError(std::string(e.status().message()));
  if (e->embodiment != embodiment_) {
    return absl::DataLossError(absl::StrCat(hdf, ": embodiment ", std::string(action::EmbodimentName(e->embodiment)),
                                            ", expected ", std::string(action::EmbodimentName(embodiment_))));
  }
  if (e->instructions_seen.empty()) return absl::DataLossError(absl::StrCat(companion, ": no seen instructions"));
  return e->num_frames();
}

absl::StatusOr<int> EpisodeStore::Write(int index, const sim::Episode& episode,
                                        const std::vector<SceneCamera>& cameras) const {
  const std::string tmp = PartialDir(index);
  std::error_code ec;
  fs::remove_all(tmp, ec);  // leftovers of a killed run
  fs::create_directories(tmp, ec);
  if (ec) return absl::InternalError(absl::StrCat(tmp, ": cannot create: ", ec.message()));
  std::string tmp_hdf, tmp_companion;
  int frames = 0;
  if (IsHuman(embodiment_)) {
    ASSIGN_OR_RETURN(data::HumanEpisode human, ToHumanEpisode(episode));
    frames = human.num_frames();
    tmp_hdf = (fs::path(tmp) / absl::StrCat(index, ".hdf5")).string();
    tmp_companion = data::EgoDexVideoPath(tmp_hdf);
    RETURN_IF_ERROR(data::WriteEgoDexEpisode(tmp_hdf, human));
  } else {
    ASSIGN_OR_RETURN(data::RobotEpisode robot, ToRobotEpisode(episode, cameras));
    frames = robot.num_frames();
    tmp_hdf = data::RoboTwinEpisodePath(tmp, index);
    tmp_companion = data::RoboTwinInstructionPath(tmp_hdf);
    RETURN_IF_ERROR(data::WriteRoboTwinEpisode(tmp, index, robot));
  }
  // The HDF5 file goes last: it marks the episode as finished (an old, rejected one goes first).
  fs::remove(HdfPath(index), ec);
  RETURN_IF_ERROR(Rename(tmp_companion, CompanionPath(index)));
  RETURN_IF_ERROR(Rename(tmp_hdf, HdfPath(index)));
  fs::remove_all(tmp, ec);
  return frames;
}

void EpisodeStore::RemovePartial() const {
  std::error_code ec;
  fs::remove_all(PartialRoot(), ec);
}

}  // namespace mivla::datagen
