// File: action_space.h
// The 76-value unified action space (docs/action-space.md): named slices, per-embodiment masks, and the
// mutual-imitation complement of each embodiment. Constants and pure functions; thread-safe.
//
//   index   slice              content
//   0-23    human left         wrist pos (3), wrist rot 6D (6), tips thumb..little (5x3)
//   24-47   human right        same
//   48-54   robot joints left  6 arm joints (rad), gripper opening (m)
//   55-61   robot joints right same
//   62-68   end effector left  position (3, m), quaternion w,x,y,z (4)
//   69-75   end effector right same
//
// A one-armed robot (PiPER, ARX-5) uses the right-arm slots.
#ifndef MIVLA_CORE_ACTION_ACTION_SPACE_H_
#define MIVLA_CORE_ACTION_ACTION_SPACE_H_

#include <array>
#include <bitset>
#include <string_view>

#include "absl/status/statusor.h"

namespace mivla::action {

inline constexpr int kActionDim = 76;
inline constexpr int kHumanDim = 48;        // both hands
inline constexpr int kRobotJointsDim = 14;  // both arms, 6 joints + gripper each
inline constexpr int kEndEffectorDim = 14;  // both arms, position + quaternion each

/// Embodiment tags; the numeric values are the model's embedding indices and match the wire enum - 1.
enum class Embodiment : int { kHuman = 0, kAlohaAgilex = 1, kPiper = 2, kArx5 = 3, kLocoman = 4 };
inline constexpr int kNumEmbodiments = 5;
inline constexpr std::array<Embodiment, kNumEmbodiments> kAllEmbodiments = {
    Embodiment::kHuman, Embodiment::kAlohaAgilex, Embodiment::kPiper, Embodiment::kArx5,
    Embodiment::kLocoman};

/// Canonical upper-case name ("HUMAN", "ALOHA_AGILEX", "PIPER", "ARX5", "LOCOMAN").
std::string_view EmbodimentName(Embodiment e);
/// Accepts the canonical names and the lower-case CLI names ("human", "aloha", "piper", "arx5", "locoman").
absl::StatusOr<Embodiment> ParseEmbodiment(std::string_view name);
bool IsRobot(Embodiment e);
/// Number of arms (robots) or hands (human) the embodiment drives: 1 for PiPER and ARX-5, else 2.
int NumArms(Embodiment e);

struct Slice {
  int begin;
  int size;
  std::string_view name;
  constexpr int end() const { return begin + size; }
};

inline constexpr Slice kHumanLeft{0, 24, "human_left"};
inline constexpr Slice kHumanRight{24, 24, "human_right"};
inline constexpr Slice kJointsLeft{48, 7, "joints_left"};
inline constexpr Slice kJointsRight{55, 7, "joints_right"};
inline constexpr Slice kEndEffectorLeft{62, 7, "end_effector_left"};
inline constexpr Slice kEndEffectorRight{69, 7, "end_effector_right"};
inline constexpr std::array<Slice, 6> kAllSlices = {kHumanLeft,  kHumanRight,      kJointsLeft,
                                                    kJointsRight, kEndEffectorLeft, kEndEffectorRight};
/// The three proprioception groups fed to the model's three state MLPs.
inline constexpr Slice kHumanGroup{0, kHumanDim, "human"};
inline constexpr Slice kRobotJointsGroup{48, kRobotJointsDim, "robot_joints"};
inline constexpr Slice kEndEffectorGroup{62, kEndEffectorDim, "end_effector"};

// Offsets inside one hand's 24 values.
inline constexpr int kHandWristPos = 0;   // 3
inline constexpr int kHandWristRot6d = 3; // 6
inline constexpr int kHandTips = 9;       // 5 x 3: thumb, index, middle, ring, little
// Offsets inside one arm's joint slice and end-effector slice.
inline constexpr int kArmJoints = 0;      // 6
inline constexpr int kArmGripper = 6;     // 1
inline constexpr int kEePos = 0;          // 3
inline constexpr int kEeQuat = 3;         // 4 (w, x, y, z)

/// True for the dimensions that hold rotation components (6D of the hands, quaternions of the
/// end effectors); these are bounded in [-1, 1] and are not rescaled by normalisation.
bool IsRotationDim(int index);

using ActionMask = std::bitset<kActionDim>;

ActionMask SliceMask(const Slice& s);
/// The slots an embodiment fills natively (its labelled slice).
ActionMask EmbodimentMask(Embodiment e);
/// The slots mutual imitation adds for an embodiment: robot slots for a human demo (both arms), human
/// slots for a robot demo (the hand that matches each arm: right hand for one-armed robots).
ActionMask ComplementMask(Embodiment e);

}  // namespace mivla::action

#endif  // MIVLA_CORE_ACTION_ACTION_SPACE_H_
