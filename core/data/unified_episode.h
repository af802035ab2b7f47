// File: unified_episode.h
// An episode of any source expressed in the 76-value unified action space (docs/action-space.md;
// core/action/action_space.h): per frame the state vector and the mask of the slots it fills, plus the
// camera images and the instruction(s). The sample reader (sample_reader.h) cuts training samples from
// it; the native format (native_format.h) stores it. Plain values; thread-compatible; conversions are
// pure functions (thread-safe).
//
// Robot -> slots: arms[0] (left) -> joints_left (6 joints + gripper in native units) and
// end_effector_left (x, y, z, qw, qx, qy, qz); arms[1] -> the right slots. A one-armed robot has only
// arms[1], so it fills the right slots. Arms must have exactly 6 joints.
// End-effector slots are always in the arm's base frame (the embodiment frame of core/kinematics, +z up),
// the frame of the retargeted slots (core/retarget): they are the forward kinematics of the recorded
// joints, not the file's end-effector poses (RoboTwin and the simulator record those in the world frame).
// Human -> slots: core/retarget/egodex.h (HandsFromEgoDex) per frame, world (ARKit, +y up) or camera
// frame; a hand whose wrist joint is absent leaves its slots unmasked.
#ifndef MIVLA_CORE_DATA_UNIFIED_EPISODE_H_
#define MIVLA_CORE_DATA_UNIFIED_EPISODE_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "core/data/episode.h"

namespace mivla::data {

using UnifiedVector = std::array<double, action::kActionDim>;

enum class HumanFrame { kWorld, kCamera };
/// "world" / "camera".
absl::StatusOr<HumanFrame> ParseHumanFrame(const std::string& name);
const char* HumanFrameName(HumanFrame frame);

struct UnifiedEpisode {
  action::Embodiment embodiment = action::Embodiment::kHuman;
  std::string source;                     // file the episode came from (for messages)
  std::string instruction;                // the default phrasing
  std::vector<std::string> instructions;  // all training phrasings (RoboTwin: the seen list)
  std::vector<UnifiedVector> states;      // [T]
  std::vector<action::ActionMask> masks;  // [T] the episode's own (labelled) slots
  // Mutual-imitation complements (complements.h): states[t] also holds the retargeted values of the other
  // embodiment in the slots set in complement_masks[t] (disjoint from masks[t]). Empty = not computed.
  std::vector<action::ActionMask> complement_masks;  // [T] or empty
  // Whose kinematics filled the complement slots: for a human episode the target robot, for a robot
  // episode kHuman. Meaningful only when complement_masks is not empty.
  action::Embodiment complement_embodiment = action::Embodiment::kHuman;
  std::vector<CameraStream> cameras;
  double fps = 0.0;

  int num_frames() const { return static_cast<int>(states.size()); }
};

absl::StatusOr<UnifiedEpisode> UnifyHumanEpisode(const HumanEpisode& episode, HumanFrame frame);
/// `embodiment_dir`: the kinematics descriptions ("" = core/kinematics default).
absl::StatusOr<UnifiedEpisode> UnifyRobotEpisode(const RobotEpisode& episode, const std::string& embodiment_dir = "");

/// Sets the end-effector slots (and mask bits) of every frame whose joint slots are valid to the forward
/// kinematics of those joints, in the arm's base frame (quaternion w >= 0). A no-op for human episodes.
absl::Status FillEndEffectorsFromJoints(UnifiedEpisode* episode, const std::string& embodiment_dir = "");

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_UNIFIED_EPISODE_H_
