#include "core/retarget/hand_pose.h"

#include <cmath>
#include <limits>

#include "core/kinematics/transforms.h"
#include "gtest/gtest.h"

namespace mivla::retarget {
namespace {

HandPose SomeHand(double shift) {
  HandPose h;
  h.wrist = kinematics::PoseFromXyzRpy({0.3 + shift, -0.1, 0.9}, {0.3, -0.2, 1.1});
  for (int f = 0; f < 5; ++f) h.tips[f] = Eigen::Vector3d(0.4 + 0.01 * f, -0.05 * f, 1.0 + shift);
  return h;
}

TEST(HandPoseTest, SliceRoundTrip) {
  const HandPose h = SomeHand(0.0);
  double v[24];
  HandToSlice(h, v);
  EXPECT_DOUBLE_EQ(v[0], 0.3);
  EXPECT_DOUBLE_EQ(v[action::kHandWristRot6d], h.wrist.linear()(0, 0));  // column 0 first
  EXPECT_DOUBLE_EQ(v[action::kHandWristRot6d + 3], h.wrist.linear()(0, 1));
  EXPECT_DOUBLE_EQ(v[action::kHandTips + 3 * kLittle + 1], -0.2);
  auto back = HandFromSlice(v);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->wrist.isApprox(h.wrist, 1e-12));
  for (int f = 0; f < 5; ++f) EXPECT_TRUE(back->tips[f].isApprox(h.tips[f]));
}

TEST(HandPoseTest, Human48KeepsSidesAndAbsence) {
  HumanHands hands;
  hands.Set(Side::kRight, SomeHand(0.1));
  const Human48 v = HandsToHuman48(hands);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(v[i], 0.0);
  EXPECT_DOUBLE_EQ(v[24], 0.4);
  auto back = HandsFromHuman48(v);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->has(Side::kLeft));
  ASSERT_TRUE(back->has(Side::kRight));
  EXPECT_TRUE(back->at(Side::kRight).wrist.isApprox(hands.at(Side::kRight).wrist, 1e-12));
}

TEST(HandPoseTest, BadSlicesAreErrors) {
  double v[24];
  HandToSlice(SomeHand(0.0), v);
  v[7] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(HandFromSlice(v).status().code(), absl::StatusCode::kInvalidArgument);
  HandToSlice(SomeHand(0.0), v);
  for (int i = 3; i < 6; ++i) v[i + 3] = 2.0 * v[i];  // parallel 6D columns
  EXPECT_EQ(HandFromSlice(v).status().code(), absl::StatusCode::kInvalidArgument);
  Human48 h{};
  h[30] = std::numeric_limits<double>::infinity();
  auto r = HandsFromHuman48(h);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("right hand"), std::string::npos);
}

TEST(HandPoseTest, WriteHumanSlicesSetsMask) {
  HumanHands hands;
  hands.Set(Side::kLeft, SomeHand(0.0));
  double a[action::kActionDim] = {};
  action::ActionMask mask;
  WriteHumanSlices(hands, a, &mask);
  EXPECT_EQ(mask, action::SliceMask(action::kHumanLeft));
  EXPECT_DOUBLE_EQ(a[0], 0.3);
  EXPECT_EQ(a[24], 0.0);
}

}  // namespace
}  // namespace mivla::retarget
