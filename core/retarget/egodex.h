// File: egodex.h
// EgoDex (ARKit skeleton) -> the 48-value human slice: from one frame's per-joint 4x4 transforms
// (HDF5 `transforms/<joint>`, world frame, ARKit: right-handed, +y up) to wrist position, wrist 6D
// rotation and five fingertip positions per hand, in the world frame or the camera frame.
// Joint names used: {left,right}Hand (wrist), {side}ThumbKnuckle, {side}ThumbTip,
// {side}{Index,Middle,Ring,Little}FingerTip, and `camera` for the camera pose (camera frame only).
// Reading the HDF5 file is core/data's job; this is pure math. Thread-safe.
//
//   EgoDexFrame f = {{"rightHand", m0}, {"rightThumbTip", m1}, ...};
//   ASSIGN_OR_RETURN(Human48 h, EgoDexToHuman48(f, {.frame = EgoDexOptions::Frame::kCamera}));
#ifndef MIVLA_CORE_RETARGET_EGODEX_H_
#define MIVLA_CORE_RETARGET_EGODEX_H_

#include <map>
#include <string>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "core/retarget/hand_pose.h"

namespace mivla::retarget {

using EgoDexFrame = std::map<std::string, Eigen::Matrix4d>;

struct EgoDexOptions {
  enum class Frame { kWorld, kCamera };
  Frame frame = Frame::kWorld;
  /// World frame only: turn ARKit's +y-up world into +z-up by Rx(+90 deg) (as egohub does).
  bool z_up = false;
  std::string camera_joint = "camera";
};

/// Both hands with the thumb knuckle set. A hand whose wrist joint is absent is absent; a hand with a
/// wrist but a missing tip/knuckle, a non-finite matrix, or a missing camera (camera frame) is an error
/// naming the joint.
absl::StatusOr<HumanHands> HandsFromEgoDex(const EgoDexFrame& frame, const EgoDexOptions& options);
absl::StatusOr<Human48> EgoDexToHuman48(const EgoDexFrame& frame, const EgoDexOptions& options);

}  // namespace mivla::retarget

#endif  // MIVLA_CORE_RETARGET_EGODEX_H_
