// File: hand_prior.h
// Anatomical hand prior built from a kinematics::HandDescription (human.json): where the thumb knuckle
// and the five fingertips sit in the wrist frame for a given grip opening, and the linear maps between
// the thumb-index pinch distance, the opening fraction in [0, 1], and a gripper's range. This is the
// paper's F(.) (eq. 3): fingertips from the gripper opening and anatomical distances.
//
// Model (right hand, wrist frame +x to the fingers, +y dorsal, +z toward the thumb): knuckles of the
// index..little fingers at the palm length (hand length - middle finger length; 0.96/1/0.96/0.88 of it)
// spread across the hand breadth (+3/8, +1/8, -1/8, -3/8 of it along z); each finger a straight chord
// of its length flexed toward the palm by (1 - opening) * closed_flexion; the thumb tip lies at the
// pinch distance from the index tip along `pinch_direction`. The left hand is the mirror image.
// Immutable; thread-safe.
#ifndef MIVLA_CORE_RETARGET_HAND_PRIOR_H_
#define MIVLA_CORE_RETARGET_HAND_PRIOR_H_

#include <array>

#include "Eigen/Geometry"
#include "absl/status/statusor.h"
#include "core/kinematics/embodiment.h"
#include "core/retarget/hand_pose.h"

namespace mivla::retarget {

class HandPrior {
 public:
  static absl::StatusOr<HandPrior> Create(const kinematics::HandDescription& description);

  const kinematics::HandDescription& description() const { return d_; }

  /// Opening fraction (0 = pinch closed, 1 = open) of a thumb-index distance, clamped to [0, 1].
  double OpeningFromPinch(double distance_m) const;
  double PinchFromOpening(double opening) const;

  /// Thumb knuckle offset in the wrist frame of `side`.
  Eigen::Vector3d ThumbKnuckleOffset(Side side) const;
  /// Fingertips in the wrist frame of `side` (opening clamped to [0, 1]).
  std::array<Eigen::Vector3d, 5> TipsInWrist(Side side, double opening) const;
  /// A full hand (world tips, thumb knuckle set) for a wrist pose.
  HandPose HandAt(const Eigen::Isometry3d& wrist, Side side, double opening) const;

  /// Thumb knuckle pose from a wrist pose (same orientation, offset position), and back.
  Eigen::Isometry3d KnuckleFromWrist(const Eigen::Isometry3d& wrist, Side side) const;
  Eigen::Isometry3d WristFromKnuckle(const Eigen::Isometry3d& knuckle, Side side) const;

 private:
  explicit HandPrior(const kinematics::HandDescription& d) : d_(d) {}
  Eigen::Matrix3d Mirror(Side side) const;
  kinematics::HandDescription d_;
};

/// Linear maps between an opening fraction in [0, 1] and a gripper value in [min, max] (clamped).
double GripperFromOpening(const kinematics::GripperSpec& g, double opening);
double OpeningFromGripper(const kinematics::GripperSpec& g, double value);

}  // namespace mivla::retarget

#endif  // MIVLA_CORE_RETARGET_HAND_PRIOR_H_
