#include "core/retarget/hand_prior.h"

#include "core/kinematics/embodiment_loader.h"
#include "core/kinematics/transforms.h"
#include "gtest/gtest.h"

namespace mivla::retarget {
namespace {

HandPrior Prior() {
  auto d = kinematics::LoadHandDescription();
  EXPECT_TRUE(d.ok()) << d.status();
  auto p = HandPrior::Create(*d);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

TEST(HandPriorTest, PinchDistanceFollowsOpeningExactly) {
  const HandPrior p = Prior();
  for (double u : {0.0, 0.25, 0.5, 1.0}) {
    const auto tips = p.TipsInWrist(Side::kRight, u);
    const double d = (tips[kThumb] - tips[kIndex]).norm();
    EXPECT_NEAR(d, 0.02 + u * 0.13, 1e-12);  // 20 mm closed .. 150 mm open
    EXPECT_NEAR(p.OpeningFromPinch(d), u, 1e-12);
  }
  EXPECT_EQ(p.OpeningFromPinch(0.0), 0.0);  // clamped
  EXPECT_EQ(p.OpeningFromPinch(1.0), 1.0);
}

TEST(HandPriorTest, OpenHandHasThePublishedSizes) {
  const HandPrior p = Prior();
  const auto open = p.TipsInWrist(Side::kRight, 1.0);
  // Straight fingers: wrist to middle fingertip along x is the hand length (183 mm).
  EXPECT_NEAR(open[kMiddle].x(), 0.183, 1e-12);
  EXPECT_NEAR(open[kMiddle].y(), 0.0, 1e-12);
  // Index to little fingertip spread is 3/4 of the 80 mm breadth (knuckle centres).
  EXPECT_NEAR(open[kIndex].z() - open[kLittle].z(), 0.06, 1e-12);
  // Closing flexes the fingers toward the palm (-y) and shortens their reach, keeping their lengths.
  const auto closed = p.TipsInWrist(Side::kRight, 0.0);
  EXPECT_LT(closed[kMiddle].y(), -0.05);
  EXPECT_LT(closed[kMiddle].x(), open[kMiddle].x());
  EXPECT_NEAR((closed[kMiddle] - open[kMiddle]).norm(),
              2 * 0.0707 * std::sin(60.0 * M_PI / 180 / 2), 1e-12);  // chord of the flexion arc
}

TEST(HandPriorTest, LeftHandIsTheMirrorImage) {
  const HandPrior p = Prior();
  const auto r = p.TipsInWrist(Side::kRight, 0.3);
  const auto l = p.TipsInWrist(Side::kLeft, 0.3);
  for (int f = 0; f < 5; ++f) {
    EXPECT_NEAR(l[f].x(), -r[f].x(), 1e-15);
    EXPECT_NEAR(l[f].y(), r[f].y(), 1e-15);
    EXPECT_NEAR(l[f].z(), r[f].z(), 1e-15);
  }
  EXPECT_NEAR(p.ThumbKnuckleOffset(Side::kLeft).x(), -p.ThumbKnuckleOffset(Side::kRight).x(), 1e-15);
}

TEST(HandPriorTest, KnuckleAndWristAreInverse) {
  const HandPrior p = Prior();
  const Eigen::Isometry3d w = kinematics::PoseFromXyzRpy({0.1, 0.2, 0.3}, {0.5, -0.4, 2.0});
  for (Side s : {Side::kLeft, Side::kRight}) {
    const Eigen::Isometry3d k = p.KnuckleFromWrist(w, s);
    EXPECT_NEAR((k.translation() - w.translation()).norm(), p.description().thumb_knuckle_m.norm(), 1e-12);
    EXPECT_TRUE(p.WristFromKnuckle(k, s).isApprox(w, 1e-12));
  }
  const HandPose h = p.HandAt(w, Side::kRight, 0.5);
  EXPECT_TRUE(h.has_thumb_knuckle);
  EXPECT_TRUE(h.tips[kRing].isApprox(w * p.TipsInWrist(Side::kRight, 0.5)[kRing]));
}

TEST(HandPriorTest, GripperMaps) {
  kinematics::GripperSpec g{0.0, 0.07};
  EXPECT_DOUBLE_EQ(GripperFromOpening(g, 0.5), 0.035);
  EXPECT_DOUBLE_EQ(OpeningFromGripper(g, 0.035), 0.5);
  EXPECT_DOUBLE_EQ(GripperFromOpening(g, 2.0), 0.07);
  EXPECT_DOUBLE_EQ(OpeningFromGripper(g, -1.0), 0.0);
  EXPECT_DOUBLE_EQ(OpeningFromGripper(g, std::nan("")), 0.0);
}

TEST(HandPriorTest, RejectsInconsistentDescription) {
  kinematics::HandDescription d;
  EXPECT_FALSE(HandPrior::Create(d).ok());
}

}  // namespace
}  // namespace mivla::retarget
