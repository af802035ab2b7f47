// File: episode_store.h
// Where mivla-datagen puts episode i of a run, how it writes it so that a killed run never leaves a
// file that looks finished, and how a re-run recognises finished episodes.
//
// Layout under the output directory DIR (config = demo_clean for easy, demo_randomized for hard):
//   robots: DIR/<task>/<embodiment>_<config>/data/episode<i>.hdf5        (RoboTwin 2.0, older layout)
//           DIR/<task>/<embodiment>_<config>/instructions/episode<i>.json
//   human:  DIR/human_<config>/<task>/<i>.hdf5 + <i>.mp4                   (EgoDex: <part>/<task>/<idx>)
// Writing: core/data's writer writes into DIR/.partial/<config path>/<i>/; then the companion file
// (instructions JSON or mp4) and last the HDF5 file are renamed into place (same file system, atomic).
// The HDF5 file is therefore the completion marker: it exists only when everything was written.
// Finished() also opens it with core/data's reader, so a damaged file is redone, not trusted.
// Thread-safe for distinct episode indices (HDF5 access is serialised by core/data).
#ifndef MIVLA_TRAINER_DATAGEN_EPISODE_STORE_H_
#define MIVLA_TRAINER_DATAGEN_EPISODE_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "sim/rollout.h"
#include "sim/scene.h"
#include "trainer/datagen/episode_convert.h"

namespace mivla::datagen {

class EpisodeStore {
 public:
  EpisodeStore(std::string out_dir, std::string task, action::Embodiment embodiment, sim::Mode mode);

  /// The directory holding the run's episodes (robots: the RoboTwin config dir; human: the task dir).
  std::string EpisodeDir() const;
  /// The episode's HDF5 file and its companion (instructions JSON or mp4), final names.
  std::string HdfPath(int index) const;
  std::string CompanionPath(int index) const;
  /// Where episodes are written before they are renamed into place (removed when the run is done).
  std::string PartialRoot() const;

  /// Frames of a finished episode; NotFound when its files are not (all) there; DataLoss (naming the
  /// file and the reason) when they are there but core/data's reader rejects them.
  absl::StatusOr<int> Finished(int index) const;

  /// Converts and writes the rollout as episode `index` (temp name, then rename). `cameras`: robots
  /// only (DescribeCameras of the episode's scene). Returns the frames written.
  absl::StatusOr<int> Write(int index, const sim::Episode& episode, const std::vector<SceneCamera>& cameras) const;

  /// Removes PartialRoot() (call when no writer is running).
  void RemovePartial() const;

 private:
  std::string PartialDir(int index) const;

  std::string out_dir_;
  std::string task_;
  action::Embodiment embodiment_;
  std::string config_;  // demo_clean / demo_randomized
};

}  // namespace mivla::datagen

#endif  // MIVLA_TRAINER_DATAGEN_EPISODE_STORE_H_
