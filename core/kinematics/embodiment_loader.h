// File: embodiment_loader.h
// Loads embodiment descriptions (embodiment.h) from JSON data files, one per embodiment:
// piper.json, arx5.json, locoman.json, aloha_agilex.json, human.json.
//
// Directory resolution: an explicit `dir` argument wins; otherwise $MIVLA_EMBODIMENT_DIR; otherwise the
// directory compiled in at build time (<source>/core/kinematics/embodiments), so binaries in build/bin
// work from a fresh clone.
//
//   ASSIGN_OR_RETURN(EmbodimentDescription piper, LoadEmbodiment(action::Embodiment::kPiper));
//
// File format (lengths in m, angles in rad unless a key ends in _deg):
//   {"embodiment": "PIPER", "description": "...", "sources": ["..."],
//    "arms": [{"name": "...", "side": "right", "base": {"xyz": [..], "rpy": [..]},
//              "joints": [{"name": "joint1", "lower": .., "upper": .., "velocity": ..,
//                          "dh": {"a": .., "alpha_deg": .., "d": .., "theta_offset_deg": ..}}
//                         | {..., "origin": {"xyz": [..], "rpy": [..]}, "axis": [..],
//                            "type": "revolute" | "prismatic"}],
//              "tool": {"xyz": [..], "rpy": [..]}, "gripper": {"min": .., "max": .., "velocity": ..},
//              "home": [..], "retarget": {"human_to_base": [[3x3]], "ee_in_hand": [[3x3]]}}],
//    "hand": {...}}  (human only; see human.json)
// Thread-safe (reads files; no shared state).
#ifndef MIVLA_CORE_KINEMATICS_EMBODIMENT_LOADER_H_
#define MIVLA_CORE_KINEMATICS_EMBODIMENT_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "core/kinematics/embodiment.h"

namespace mivla::kinematics {

/// $MIVLA_EMBODIMENT_DIR if set and non-empty, else the compiled-in source directory.
std::string DefaultEmbodimentDir();
/// File name of an embodiment's description, e.g. "piper.json".
std::string EmbodimentFileName(action::Embodiment tag);

/// Parses a description; `source_name` is used in error messages.
absl::StatusOr<EmbodimentDescription> ParseEmbodimentJson(const std::string& text,
                                                          const std::string& source_name);
absl::StatusOr<EmbodimentDescription> LoadEmbodimentFile(const std::string& path);
/// Loads <dir>/<EmbodimentFileName(tag)>; `dir` empty means DefaultEmbodimentDir(). Checks that the
/// file's "embodiment" matches `tag`.
absl::StatusOr<EmbodimentDescription> LoadEmbodiment(action::Embodiment tag, const std::string& dir = "");
/// The human hand model from human.json.
absl::StatusOr<HandDescription> LoadHandDescription(const std::string& dir = "");

}  // namespace mivla::kinematics

#endif  // MIVLA_CORE_KINEMATICS_EMBODIMENT_LOADER_H_
