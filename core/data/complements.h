// File: complements.h
// Mutual-imitation complements (docs/action-space.md, eq. 2-7): per episode, before samples are cut, the other
// embodiment's slots are filled by retargeting:
//   human episode: the robot slots of `human_target` through retarget::HumanToRobotMapper (eq. 2 with its
//     default options: relative motion of the thumb knuckle, anchored at the first frame where each hand is
//     seen, E_0 = the robot's home pose, IK seeded from the previous frame's joints). The end-effector slots
//     hold the FK pose of the IK joints in the arm's base frame.
//   robot episode: the human slots through retarget::RobotToHumanMapper (eq. 3, the inverse with the same
//     defaults), from the joint slots (FK), one hand per arm.
// A frame where an arm's IK fails (or its hand / joints are absent) leaves that arm's complement slots out
// (mask bits clear); frames with an IK failure are counted.
//
// Complements are cached (optional): one small binary file per (episode file, options) under cache_dir,
// keyed by the file's path, size and mtime and the options; a stale or corrupt entry is recomputed and
// rewritten, never trusted. Functions are thread-safe (one mapper per call; cache files are written to a
// temporary name and renamed).
//
//   ComplementOptions o{.human_target = action::Embodiment::kPiper, .cache_dir = "/data/cache"};
//   ComplementReport r;
//   ASSIGN_OR_RETURN(UnifiedEpisode ep, LoadEpisodeWithComplements(path, {}, o, &r));
#ifndef MIVLA_CORE_DATA_COMPLEMENTS_H_
#define MIVLA_CORE_DATA_COMPLEMENTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "core/data/episode_loader.h"
#include "core/data/unified_episode.h"

namespace mivla::data {

struct ComplementOptions {
  action::Embodiment human_target = action::Embodiment::kPiper;  // whose kinematics fill a human sample's robot slots
  std::string embodiment_dir;  // "" = core/kinematics default
  std::string cache_dir;       // "" = no cache; else complements cached here, keyed by file path+size+mtime+options
  std::string dataset_root;    // "" = cache keyed by the absolute path; else by the path relative to it
};

struct ComplementReport {
  int frames = 0;
  int ik_failures = 0;  // frames where at least one arm's IK failed (left out of the complement)
  bool from_cache = false;
};

/// Fills the complement slots of every frame of `episode` (sets complement_masks and
/// complement_embodiment; overwrites earlier complements). InvalidArgument (naming episode.source) for a
/// robot human_target that is not a robot, inconsistent masks, or non-finite values in valid slots.
absl::StatusOr<ComplementReport> AddComplements(UnifiedEpisode& episode, const ComplementOptions& options);

/// LoadUnifiedEpisode + AddComplements, reading/writing the cache when options.cache_dir is set.
/// `report` may be null.
absl::StatusOr<UnifiedEpisode> LoadEpisodeWithComplements(const std::string& path, const LoadOptions& load,
                                                          const ComplementOptions& options, ComplementReport* report);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_COMPLEMENTS_H_
