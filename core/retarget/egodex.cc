#include "core/retarget/egodex.h"

#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/action/rotation.h"
#include "core/util/status_macros.h"

namespace mivla::retarget {
namespace {

constexpr std::array<const char*, 5> kTipNames = {"ThumbTip", "IndexFingerTip", "MiddleFingerTip",
                                                  "RingFingerTip", "LittleFingerTip"};

absl::StatusOr<Eigen::Isometry3d> Rigid(const EgoDexFrame& frame, const std::string& name) {
  auto it = frame.find(name);
  if (it == frame.end()) return absl::InvalidArgumentError(absl::StrCat("EgoDex joint '", name, "' is missing"));
  const Eigen::Matrix4d& m = it->second;
  if (!m.allFinite()) return absl::InvalidArgumentError(absl::StrCat("EgoDex joint '", name, "' is not finite"));
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.linear() = action::Orthonormalize(m.topLeftCorner<3, 3>());
  t.translation() = m.topRightCorner<3, 1>();
  return t;
}

}  // namespace

absl::StatusOr<HumanHands> HandsFromEgoDex(const EgoDexFrame& frame, const EgoDexOptions& options) {
  // World -> output frame.
  Eigen::Isometry3d to_out = Eigen::Isometry3d::Identity();
  if (options.frame == EgoDexOptions::Frame::kCamera) {
    ASSIGN_OR_RETURN(Eigen::Isometry3d cam, Rigid(frame, options.camera_joint));
    to_out = cam.inverse();
  } else if (options.z_up) {
    to_out.linear() = Eigen::AngleAxisd(M_PI / 2, Eigen::Vector3d::UnitX()).toRotationMatrix();
  }
  HumanHands out;
  for (Side side : {Side::kLeft, Side::kRight}) {
    const std::string p = side == Side::kLeft ? "left" : "right";
    if (frame.find(p + "Hand") == frame.end()) continue;
    HandPose h;
    ASSIGN_OR_RETURN(Eigen::Isometry3d wrist, Rigid(frame, p + "Hand"));
    ASSIGN_OR_RETURN(Eigen::Isometry3d knuckle, Rigid(frame, p + "ThumbKnuckle"));
    h.wrist = to_out * wrist;
    h.thumb_knuckle = to_out * knuckle;
    h.has_thumb_knuckle = true;
    for (int f = 0; f < 5; ++f) {
      ASSIGN_OR_RETURN(Eigen::Isometry3d tip, Rigid(frame, p + kTipNames[f]));
      h.tips[f] = to_out * tip.translation();
    }
    out.Set(side, h);
  }
  return out;
}

absl::StatusOr<Human48> EgoDexToHuman48(const EgoDexFrame& frame, const EgoDexOptions& options) {
  ASSIGN_OR_RETURN(HumanHands hands, HandsFromEgoDex(frame, options));
  return HandsToHuman48(hands);
}

}  // namespace mivla::retarget
