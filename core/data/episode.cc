#include "core/data/episode.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace mivla::data {
namespace {

std::string Get(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

absl::Status Bad(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status CheckLength(const std::string& field, size_t got, int want) {
  if (static_cast<int>(got) != want) return Bad(field, absl::StrCat(got, " entries, expected ", want));
  return absl::OkStatus();
}

absl::Status CheckCamera(const std::string& field, const CameraStream& cam, int num_frames) {
  if (cam.name.empty()) return Bad(field, "camera name is empty");
  if (cam.frames.empty()) return absl::OkStatus();
  if (static_cast<int>(cam.frames.size()) != num_frames) {
    return Bad(field + ".frames", absl::StrCat(cam.frames.size(), " images, expected ", num_frames));
  }
  for (size_t t = 0; t < cam.frames.size(); ++t) {
    const RgbImage& img = cam.frames[t];
    if (!img.valid()) return Bad(absl::StrCat(field, ".frames[", t, "]"), "inconsistent image buffer");
    if (img.width != cam.frames[0].width || img.height != cam.frames[0].height) {
      return Bad(absl::StrCat(field, ".frames[", t, "]"), "image size differs from frame 0");
    }
  }
  return absl::OkStatus();
}

}  // namespace

int HumanEpisode::num_frames() const {
  auto it = transforms.find("camera");
  if (it != transforms.end()) return static_cast<int>(it->second.size());
  return transforms.empty() ? 0 : static_cast<int>(transforms.begin()->second.size());
}

std::string HumanEpisode::Instruction() const {
  if (Get(attributes, "llm_type") == "reversible" && Get(attributes, "which_llm_description") == "2" &&
      !Get(attributes, "llm_description2").empty()) {
    return Get(attributes, "llm_description2");
  }
  if (!Get(attributes, "llm_description").empty()) return Get(attributes, "llm_description");
  return Get(attributes, "task");
}

int RobotEpisode::num_frames() const {
  for (const ArmTrack& arm : arms) {
    if (arm.present) return static_cast<int>(arm.joints.size());
  }
  return cameras.empty() ? 0 : static_cast<int>(cameras[0].frames.size());
}

std::string RobotEpisode::Instruction() const {
  if (!instructions_seen.empty()) return instructions_seen[0];
  if (!instructions_unseen.empty()) return instructions_unseen[0];
  return "";
}

absl::Status ValidateEpisode(const HumanEpisode& episode) {
  const int n = episode.num_frames();
  if (n == 0) return Bad("transforms", "no frames");
  for (const auto& [joint, track] : episode.transforms) {
    const std::string field = absl::StrCat("transforms/", joint);
    if (auto s = CheckLength(field, track.size(), n); !s.ok()) return s;
    for (size_t t = 0; t < track.size(); ++t) {
      if (!track[t].allFinite()) return Bad(absl::StrCat(field, "[", t, "]"), "non-finite transform");
    }
  }
  for (const auto& [joint, track] : episode.confidences) {
    if (auto s = CheckLength(absl::StrCat("confidences/", joint), track.size(), n); !s.ok()) return s;
  }
  if (!episode.intrinsic.allFinite()) return Bad("camera/intrinsic", "non-finite");
  return CheckCamera("video", episode.video, n);
}

absl::Status ValidateEpisode(const RobotEpisode& episode) {
  const int n = episode.num_frames();
  if (n == 0) return Bad("arms", "no arm with frames");
  if (!action::IsRobot(episode.embodiment)) return Bad("embodiment", "not a robot");
  if (action::NumArms(episode.embodiment) == 1 && episode.arms[0].present) {
    return Bad("arms[0]", "a one-armed robot uses the right arm (arms[1]) only");
  }
  for (int a = 0; a < 2; ++a) {
    const ArmTrack& arm = episode.arms[a];
    if (!arm.present) continue;
    const std::string field = absl::StrCat("arms[", a, "]");
    if (auto s = CheckLength(field + ".joints", arm.joints.size(), n); !s.ok()) return s;
    if (auto s = CheckLength(field + ".gripper", arm.gripper.size(), n); !s.ok()) return s;
    if (auto s = CheckLength(field + ".endpose", arm.endpose.size(), n); !s.ok()) return s;
    for (int t = 0; t < n; ++t) {
      if (arm.joints[t].size() != arm.joints[0].size() || arm.joints[0].empty()) {
        return Bad(absl::StrCat(field, ".joints[", t, "]"), "joint count differs from frame 0 or is 0");
      }
      for (double v : arm.joints[t]) {
        if (!std::isfinite(v)) return Bad(absl::StrCat(field, ".joints[", t, "]"), "non-finite");
      }
      if (!std::isfinite(arm.gripper[t])) return Bad(absl::StrCat(field, ".gripper[", t, "]"), "non-finite");
      for (double v : arm.endpose[t]) {
        if (!std::isfinite(v)) return Bad(absl::StrCat(field, ".endpose[", t, "]"), "non-finite");
      }
    }
  }
  for (size_t c = 0; c < episode.cameras.size(); ++c) {
    if (auto s = CheckCamera(absl::StrCat("cameras[", c, "]"), episode.cameras[c], n); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace mivla::data
