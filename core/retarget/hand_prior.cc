#include "core/retarget/hand_prior.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"

namespace mivla::retarget {
namespace {

constexpr std::array<double, 5> kKnuckleDepth = {0.0, 0.96, 1.0, 0.96, 0.88};  // x, fraction of palm
constexpr std::array<double, 5> kKnuckleSpread = {0.0, 3.0 / 8, 1.0 / 8, -1.0 / 8, -3.0 / 8};  // z, of breadth

double Clamp01(double u) { return std::isfinite(u) ? std::clamp(u, 0.0, 1.0) : 0.0; }

}  // namespace

absl::StatusOr<HandPrior> HandPrior::Create(const kinematics::HandDescription& d) {
  if (!(d.pinch_open_m > d.pinch_closed_m) || !(d.hand_length_m > d.finger_length_m[kMiddle]) ||
      !(d.hand_breadth_m > 0) || !d.thumb_knuckle_m.allFinite() || !(d.pinch_direction.norm() > 0)) {
    return absl::InvalidArgumentError("hand description is inconsistent (pinch range, lengths or directions)");
  }
  HandPrior p(d);
  p.d_.pinch_direction.normalize();
  return p;
}

double HandPrior::OpeningFromPinch(double distance_m) const {
  return Clamp01((distance_m - d_.pinch_closed_m) / (d_.pinch_open_m - d_.pinch_closed_m));
}

double HandPrior::PinchFromOpening(double opening) const {
  return d_.pinch_closed_m + Clamp01(opening) * (d_.pinch_open_m - d_.pinch_closed_m);
}

Eigen::Matrix3d HandPrior::Mirror(Side side) const {
  return side == Side::kLeft ? d_.left_mirror : Eigen::Matrix3d::Identity();
}

Eigen::Vector3d HandPrior::ThumbKnuckleOffset(Side side) const { return Mirror(side) * d_.thumb_knuckle_m; }

std::array<Eigen::Vector3d, 5> HandPrior::TipsInWrist(Side side, double opening) const {
  const double u = Clamp01(opening);
  const double palm = d_.hand_length_m - d_.finger_length_m[kMiddle];
  const double flex = (1.0 - u) * d_.closed_flexion_rad;
  std::array<Eigen::Vector3d, 5> tips;
  for (int f = kIndex; f <= kLittle; ++f) {
    const Eigen::Vector3d knuckle(kKnuckleDepth[f] * palm, 0.0, kKnuckleSpread[f] * d_.hand_breadth_m);
    tips[f] = knuckle + d_.finger_length_m[f] * Eigen::Vector3d(std::cos(flex), -std::sin(flex), 0.0);
  }
  tips[kThumb] = tips[kIndex] + PinchFromOpening(u) * d_.pinch_direction;
  const Eigen::Matrix3d m = Mirror(side);
  for (Eigen::Vector3d& t : tips) t = m * t;
  return tips;
}

HandPose HandPrior::HandAt(const Eigen::Isometry3d& wrist, Side side, double opening) const {
  HandPose h;
  h.wrist = wrist;
  const std::array<Eigen::Vector3d, 5> local = TipsInWrist(side, opening);
  for (int f = 0; f < 5; ++f) h.tips[f] = wrist * local[f];
  h.has_thumb_knuckle = true;
  h.thumb_knuckle = KnuckleFromWrist(wrist, side);
  return h;
}

Eigen::Isometry3d HandPrior::KnuckleFromWrist(const Eigen::Isometry3d& wrist, Side side) const {
  Eigen::Isometry3d k = wrist;
  k.translation() = wrist * ThumbKnuckleOffset(side);
  return k;
}

Eigen::Isometry3d HandPrior::WristFromKnuckle(const Eigen::Isometry3d& knuckle, Side side) const {
  Eigen::Isometry3d w = knuckle;
  w.translation() = knuckle.translation() - knuckle.linear() * ThumbKnuckleOffset(side);
  return w;
}

double GripperFromOpening(const kinematics::GripperSpec& g, double opening) {
  return g.min_m + Clamp01(opening) * (g.max_m - g.min_m);
}

double OpeningFromGripper(const kinematics::GripperSpec& g, double value) {
  return Clamp01((value - g.min_m) / (g.max_m - g.min_m));
}

}  // namespace mivla::retarget
