#include "core/retarget/egodex.h"

#include <limits>

#include "core/kinematics/transforms.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::retarget {
namespace {

using ::testing::HasSubstr;

Eigen::Matrix4d Pose(double x, double y, double z, double roll, double pitch, double yaw) {
  return kinematics::PoseFromXyzRpy({x, y, z}, {roll, pitch, yaw}).matrix();
}

EgoDexFrame Frame() {
  EgoDexFrame f;
  const char* tips[5] = {"ThumbTip", "IndexFingerTip", "MiddleFingerTip", "RingFingerTip", "LittleFingerTip"};
  for (const char* side : {"left", "right"}) {
    const double s = std::string(side) == "left" ? -1.0 : 1.0;
    f[std::string(side) + "Hand"] = Pose(0.2 * s, 1.1, -0.4, 0.3, 0.2 * s, 0.1);
    f[std::string(side) + "ThumbKnuckle"] = Pose(0.22 * s, 1.12, -0.41, 0.5, 0.0, 0.0);
    for (int i = 0; i < 5; ++i) f[std::string(side) + tips[i]] = Pose(0.25 * s + 0.01 * i, 1.15, -0.5 - 0.01 * i, 0, 0, 0);
  }
  f["leftForearmWrist"] = Pose(9, 9, 9, 0, 0, 0);  // other joints are ignored
  f["camera"] = Pose(0.0, 1.5, 0.2, -0.4, 0.0, 0.1);
  return f;
}

TEST(EgoDexTest, WorldFrame) {
  const EgoDexFrame f = Frame();
  auto h = EgoDexToHuman48(f, {});
  ASSERT_TRUE(h.ok()) << h.status();
  // Right hand: wrist position, the 6D columns of its rotation, the ring fingertip.
  EXPECT_DOUBLE_EQ((*h)[24 + 0], 0.2);
  EXPECT_DOUBLE_EQ((*h)[24 + 1], 1.1);
  EXPECT_NEAR((*h)[24 + 3], f.at("rightHand")(0, 0), 1e-12);
  EXPECT_NEAR((*h)[24 + 6], f.at("rightHand")(0, 1), 1e-12);
  EXPECT_DOUBLE_EQ((*h)[24 + 9 + 3 * kRing + 2], -0.53);
  EXPECT_DOUBLE_EQ((*h)[0], -0.2);  // left wrist x
}

TEST(EgoDexTest, CameraFrameAndZUp) {
  const EgoDexFrame f = Frame();
  EgoDexOptions cam;
  cam.frame = EgoDexOptions::Frame::kCamera;
  auto hands = HandsFromEgoDex(f, cam);
  ASSERT_TRUE(hands.ok());
  const Eigen::Isometry3d c(f.at("camera"));
  const Eigen::Isometry3d w(f.at("rightHand"));
  EXPECT_TRUE(hands->at(Side::kRight).wrist.isApprox(c.inverse() * w, 1e-12));
  EXPECT_TRUE(hands->at(Side::kRight).has_thumb_knuckle);
  EgoDexOptions up;
  up.z_up = true;
  auto z = HandsFromEgoDex(f, up);
  ASSERT_TRUE(z.ok());
  // ARKit +y up becomes +z up: the wrist's height 1.1 moves to z; ARKit +z (toward the user) to -y.
  EXPECT_NEAR(z->at(Side::kRight).wrist.translation().z(), 1.1, 1e-12);
  EXPECT_NEAR(z->at(Side::kRight).wrist.translation().y(), 0.4, 1e-12);
}

TEST(EgoDexTest, MissingAndBadJoints) {
  EgoDexFrame f = Frame();
  f.erase("leftHand");  // the whole left hand gone: absent, zeros
  auto h = EgoDexToHuman48(f, {});
  ASSERT_TRUE(h.ok());
  for (int i = 0; i < 24; ++i) EXPECT_EQ((*h)[i], 0.0);
  f = Frame();
  f.erase("rightMiddleFingerTip");
  auto r = EgoDexToHuman48(f, {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("rightMiddleFingerTip"));
  f = Frame();
  f["rightThumbTip"](1, 3) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(std::string(EgoDexToHuman48(f, {}).status().message()), HasSubstr("not finite"));
  f = Frame();
  f.erase("camera");
  EgoDexOptions cam;
  cam.frame = EgoDexOptions::Frame::kCamera;
  EXPECT_THAT(std::string(EgoDexToHuman48(f, cam).status().message()), HasSubstr("camera"));
}

}  // namespace
}  // namespace mivla::retarget
