#include "core/retarget/hand_pose.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/action/rotation.h"

namespace mivla::retarget {

void HandToSlice(const HandPose& hand, double* out24) {
  for (int i = 0; i < 3; ++i) out24[action::kHandWristPos + i] = hand.wrist.translation()[i];
  const action::Rot6d r6 = action::Rot6dFromMatrix(hand.wrist.linear());
  for (int i = 0; i < 6; ++i) out24[action::kHandWristRot6d + i] = r6[i];
  for (int f = 0; f < 5; ++f) {
    for (int i = 0; i < 3; ++i) out24[action::kHandTips + 3 * f + i] = hand.tips[f][i];
  }
}

absl::StatusOr<HandPose> HandFromSlice(const double* in24) {
  for (int i = 0; i < 24; ++i) {
    if (!std::isfinite(in24[i])) {
      return absl::InvalidArgumentError(absl::StrCat("hand value ", i, " is not finite"));
    }
  }
  const Eigen::Vector3d c0(in24[3], in24[4], in24[5]), c1(in24[6], in24[7], in24[8]);
  if (c0.norm() < 1e-6 || c1.norm() < 1e-6 || c0.normalized().cross(c1.normalized()).norm() < 1e-6) {
    return absl::InvalidArgumentError("hand wrist rotation (6D) is degenerate: zero or parallel columns");
  }
  HandPose h;
  h.wrist.translation() = Eigen::Vector3d(in24[0], in24[1], in24[2]);
  action::Rot6d r6;
  for (int i = 0; i < 6; ++i) r6[i] = in24[action::kHandWristRot6d + i];
  h.wrist.linear() = action::MatrixFromRot6d(r6);
  for (int f = 0; f < 5; ++f) {
    const double* p = in24 + action::kHandTips + 3 * f;
    h.tips[f] = Eigen::Vector3d(p[0], p[1], p[2]);
  }
  return h;
}

Human48 HandsToHuman48(const HumanHands& hands) {
  Human48 v{};
  if (hands.has(Side::kLeft)) HandToSlice(hands.at(Side::kLeft), v.data() + action::kHumanLeft.begin);
  if (hands.has(Side::kRight)) HandToSlice(hands.at(Side::kRight), v.data() + action::kHumanRight.begin);
  return v;
}

absl::StatusOr<HumanHands> HandsFromHuman48(const Human48& values) {
  HumanHands out;
  for (Side s : {Side::kLeft, Side::kRight}) {
    const double* p = values.data() + (s == Side::kLeft ? action::kHumanLeft.begin : action::kHumanRight.begin);
    bool all_zero = true;
    for (int i = 0; i < 24; ++i) all_zero = all_zero && p[i] == 0.0;
    if (all_zero) continue;
    absl::StatusOr<HandPose> h = HandFromSlice(p);
    if (!h.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(kinematics::SideName(s), " hand: ", h.status().message()));
    }
    out.Set(s, *h);
  }
  return out;
}

void WriteHumanSlices(const HumanHands& hands, double* action76, action::ActionMask* mask) {
  for (Side s : {Side::kLeft, Side::kRight}) {
    if (!hands.has(s)) continue;
    const action::Slice& slice = s == Side::kLeft ? action::kHumanLeft : action::kHumanRight;
    HandToSlice(hands.at(s), action76 + slice.begin);
    if (mask != nullptr) *mask |= action::SliceMask(slice);
  }
}

}  // namespace mivla::retarget
