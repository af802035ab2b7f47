#include "core/data/unified_episode.h"

#include "absl/strings/str_cat.h"
#include "core/action/rotation.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/retarget/egodex.h"
#include "core/retarget/hand_pose.h"
#include "core/util/status_macros.h"

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

absl::Status FillEndEffectorsFromJoints(UnifiedEpisode* episode, const std::string& embodiment_dir) {
  if (episode->embodiment == action::Embodiment::kHuman) return absl::OkStatus();
  ASSIGN_OR_RETURN(kinematics::EmbodimentDescription robot, kinematics::LoadEmbodiment(episode->embodiment, embodiment_dir));
  for (const kinematics::ArmDescription& arm : robot.arms) {
    if (arm.chain.num_joints() != 6) {
      return absl::InvalidArgumentError(absl::StrCat(robot.name, " arm '", arm.name, "' has ", arm.chain.num_joints(),
                                                     " joints; the unified action holds 6"));
    }
    const bool left = arm.side == kinematics::Side::kLeft;
    const action::Slice& js = left ? action::kJointsLeft : action::kJointsRight;
    const action::Slice& es = left ? action::kEndEffectorLeft : action::kEndEffectorRight;
    const action::ActionMask joints_mask = action::SliceMask(js);
    for (int t = 0; t < episode->num_frames(); ++t) {
      if ((episode->masks[t] & joints_mask) != joints_mask) continue;
      double* v = episode->states[t].data();
      kinematics::JointVector q(6);
      for (int j = 0; j < 6; ++j) q[j] = v[js.begin + action::kArmJoints + j];
      if (!q.allFinite()) {
        return absl::InvalidArgumentError(absl::StrCat("frame ", t, ": ", arm.name, " joints are not finite"));
      }
      const Eigen::Isometry3d ee = arm.chain.ForwardUnchecked(q);
      for (int k = 0; k < 3; ++k) v[es.begin + action::kEePos + k] = ee.translation()[k];
      const action::QuatWxyz quat = action::QuatFromMatrix(ee.linear());
      for (int k = 0; k < 4; ++k) v[es.begin + action::kEeQuat + k] = quat[k];
      episode->masks[t] |= action::SliceMask(es);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<UnifiedEpisode> UnifyRobotEpisode(const RobotEpisode& episode, const std::string& embodiment_dir) {
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
    const char* side = s == 0 ? "left" : "right";
    if (static_cast<int>(arm.joints.size()) != n || static_cast<int>(arm.gripper.size()) != n) {
      return absl::InvalidArgumentError(absl::StrCat(side, " arm: joint/gripper lengths differ from ", n, " frames"));
    }
    if (!arm.endpose.empty() && static_cast<int>(arm.endpose.size()) != n) {
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
    }
  }
  // The end-effector slots: FK of the joints in the base frame (the file's poses may be world-frame).
  RETURN_IF_ERROR(FillEndEffectorsFromJoints(&out, embodiment_dir));
  return out;
}

}  // namespace mivla::data
