#include "core/data/unified_episode.h"

#include "absl/strings/str_cat.h"
#include "core/retarget/egodex.h"
#include "core/retarget/hand_pose.h"

namespace mivla::data {

absl::StatusOr<HumanFrame> ParseHumanFrame(const std::string& name) {
  if (name == "world") return HumanFrame::kWorld;
  if (name == "camera") return HumanFrame::kCamera;
  return absl::InvalidArgumentError(absl::StrCat("frame '", name, "': expected 'world' or 'camera'"));
}

const char* HumanFrameName(HumanFrame frame) { return frame == HumanFrame::kWorld ? "world" : "camera"; }

absl::StatusOr<UnifiedEpisode> UnifyHumanEpisode(const HumanEpisode& episode, HumanFrame frame) {
  UnifiedEpisode out;
  out.embodiment = action::Embodiment::kHuman;
  out.instruction = episode.Instruction();
  if (!out.instruction.empty()) out.instructions.push_back(out.instruction);
  out.fps = episode.fps;
  out.cameras.push_back(episode.video);
  retarget::EgoDexOptions options;
  options.frame = frame == HumanFrame::kWorld ? retarget::EgoDexOptions::Frame::kWorld
                                              : retarget::EgoDexOptions::Frame::kCamera;
  const int n = episode.num_frames();
  out.states.resize(n);
  out.masks.resize(n);
  retarget::EgoDexFrame joints;
  for (int t = 0; t < n; ++t) {
    joints.clear();
    for (const auto& [name, track] : episode.transforms) {
      if (t < static_cast<int>(track.size())) joints[name] = track[t];
    }
    auto hands = retarget::HandsFromEgoDex(joints, options);
    if (!hands.ok()) return absl::InvalidArgumentError(absl::StrCat("frame ", t, ": ", hands.status().message()));
    out.states[t].fill(0.0);
    retarget::WriteHumanSlices(*hands, out.states[t].data(), &out.masks[t]);
  }
  return out;
}

absl::StatusOr<UnifiedEpisode> UnifyRobotEpisode(const RobotEpisode& episode) {
  UnifiedEpisode out;
  out.embodiment = episode.embodiment;
  out.instruction = episode.Instruction();
  out.instructions = episode.instructions_seen;
  if (out.instructions.empty() && !out.instruction.empty()) out.instructions.push_back(out.instruction);
  out.fps = episode.control_hz;
  out.cameras = episode.cameras;
  const int n = episode.num_frames();
  out.states.assign(n, UnifiedVector{});
  out.masks.assign(n, action::ActionMask{});
  for (int s = 0; s < 2; ++s) {
    const ArmTrack& arm = episode.arms[s];
    if (!arm.present) continue;
    const action::Slice joints = s == 0 ? action::kJointsLeft : action::kJointsRight;
    const action::Slice ee = s == 0 ? action::kEndEffectorLeft : action::kEndEffectorRight;
    const char* side = s == 0 ? "left" : "right";
    if (static_cast<int>(arm.joints.size()) != n || static_cast<int>(arm.gripper.size()) != n) {
      return absl::InvalidArgumentError(absl::StrCat(side, " arm: joint/gripper lengths differ from ", n, " frames"));
    }
    const bool has_ee = !arm.endpose.empty();
    if (has_ee && static_cast<int>(arm.endpose.size()) != n) {
      return absl::InvalidArgumentError(absl::StrCat(side, " arm: ", arm.endpose.size(), " end-effector poses for ", n, " frames"));
    }
    for (int t = 0; t < n; ++t) {
      if (arm.joints[t].size() != 6) {
        return absl::InvalidArgumentError(absl::StrCat(side, " arm has ", arm.joints[t].size(),
                                                       " joints; the unified action holds 6 per arm"));
      }
      double* v = out.states[t].data();
      for (int j = 0; j < 6; ++j) v[joints.begin + action::kArmJoints + j] = arm.joints[t][j];
      v[joints.begin + action::kArmGripper] = arm.gripper[t];
      out.masks[t] |= action::SliceMask(joints);
      if (has_ee) {
        for (int k = 0; k < 7; ++k) v[ee.begin + k] = arm.endpose[t][k];
        out.masks[t] |= action::SliceMask(ee);
      }
    }
  }
  return out;
}

}  // namespace mivla::data
