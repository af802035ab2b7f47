// File: hand_pose.h
// A human hand as the unified action space sees it (wrist pose + five fingertip positions, optionally
// the thumb knuckle), both hands of a frame, and conversion to and from the 48-value human slice
// (docs/action-space.md: per hand wrist position 3, wrist rotation 6D 6, tips thumb..little 5x3).
// Plain values and pure functions; thread-safe.
#ifndef MIVLA_CORE_RETARGET_HAND_POSE_H_
#define MIVLA_CORE_RETARGET_HAND_POSE_H_

#include <array>

#include "Eigen/Core"
#include "Eigen/Geometry"
#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "core/kinematics/embodiment.h"

namespace mivla::retarget {

using kinematics::Side;

enum Finger : int { kThumb = 0, kIndex = 1, kMiddle = 2, kRing = 3, kLittle = 4 };

struct HandPose {
  Eigen::Isometry3d wrist = Eigen::Isometry3d::Identity();
  std::array<Eigen::Vector3d, 5> tips{};  // thumb, index, middle, ring, little; same frame as wrist
  bool has_thumb_knuckle = false;          // EgoDex gives it; the 48-D slice does not
  Eigen::Isometry3d thumb_knuckle = Eigen::Isometry3d::Identity();
};

/// The hands of one frame, indexed by Side; `present` says which are valid.
struct HumanHands {
  std::array<HandPose, 2> hands{};
  std::array<bool, 2> present{false, false};

  bool has(Side s) const { return present[static_cast<int>(s)]; }
  const HandPose& at(Side s) const { return hands[static_cast<int>(s)]; }
  void Set(Side s, const HandPose& h) {
    hands[static_cast<int>(s)] = h;
    present[static_cast<int>(s)] = true;
  }
};

using Human48 = std::array<double, action::kHumanDim>;

/// Writes one hand into 24 values.
void HandToSlice(const HandPose& hand, double* out24);
/// Reads one hand from 24 values: InvalidArgument for non-finite values or a degenerate 6D rotation.
absl::StatusOr<HandPose> HandFromSlice(const double* in24);

/// Both hands; an absent hand is written as 24 zeros.
Human48 HandsToHuman48(const HumanHands& hands);
/// Both hands; a hand whose 24 values are all zero is absent.
absl::StatusOr<HumanHands> HandsFromHuman48(const Human48& values);

/// Writes the present hands into the human slices of a 76-value action and sets their mask bits.
void WriteHumanSlices(const HumanHands& hands, double* action76, action::ActionMask* mask);

/// Thumb-tip to index-tip distance.
inline double PinchDistance(const HandPose& h) { return (h.tips[kThumb] - h.tips[kIndex]).norm(); }

}  // namespace mivla::retarget

#endif  // MIVLA_CORE_RETARGET_HAND_POSE_H_
