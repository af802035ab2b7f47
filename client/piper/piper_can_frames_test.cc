// File: piper_can_frames_test.cc
// Expected bytes are computed by hand from the layouts in agilexrobotics/piper_sdk
// (protocol_v2/piper_protocol_v2.py, msg_v2/transmit/*.py, msg_v2/feedback/*.py): big-endian
// integers, 0.001 degree, 0.001 mm, 0.001 N*m.
#include "client/piper/piper_can_frames.h"

#include <cmath>
#include <limits>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::client::piper {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kDeg = M_PI / 180.0;
constexpr double kMilliDegRad = 0.001 * kDeg;

CanFrame Make(uint32_t id, std::array<uint8_t, 8> data) {
  CanFrame f;
  f.id = id;
  f.len = 8;
  f.data = data;
  return f;
}

TEST(PiperCanFramesTest, JointCtrlBytes) {
  kinematics::JointVector q(6);
  q << 10 * kDeg, -10 * kDeg, -90 * kDeg, 45.5 * kDeg, 0.001 * kDeg, 120 * kDeg;
  absl::StatusOr<std::array<CanFrame, 3>> f = EncodeJointCtrl(q);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)[0].id, 0x155u);
  EXPECT_EQ((*f)[1].id, 0x156u);
  EXPECT_EQ((*f)[2].id, 0x157u);
  EXPECT_EQ((*f)[0].len, 8);
  // 10 deg = 10000 = 0x00002710; -10 deg = -10000 = 0xFFFFD8F0.
  EXPECT_THAT((*f)[0].data, ElementsAre(0x00, 0x00, 0x27, 0x10, 0xFF, 0xFF, 0xD8, 0xF0));
  // -90 deg = -90000 = 0xFFFEA070; 45.5 deg = 45500 = 0x0000B1BC.
  EXPECT_THAT((*f)[1].data, ElementsAre(0xFF, 0xFE, 0xA0, 0x70, 0x00, 0x00, 0xB1, 0xBC));
  // 0.001 deg = 1; 120 deg = 120000 = 0x0001D4C0.
  EXPECT_THAT((*f)[2].data, ElementsAre(0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0xD4, 0xC0));
  EXPECT_EQ(FrameToString((*f)[0]), "155#00 00 27 10 FF FF D8 F0");
}

TEST(PiperCanFramesTest, JointCtrlRejectsBadInput) {
  EXPECT_THAT(std::string(EncodeJointCtrl(kinematics::JointVector::Zero(5)).status().message()),
              HasSubstr("5 joint values, expected 6"));
  kinematics::JointVector q = kinematics::JointVector::Zero(6);
  q[3] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(std::string(EncodeJointCtrl(q).status().message()), HasSubstr("joint 4"));
  q[3] = 1e9;  // 5.7e13 millidegrees: beyond int32
  EXPECT_FALSE(EncodeJointCtrl(q).ok());
}

TEST(PiperCanFramesTest, MotionCtrl2Bytes) {
  absl::StatusOr<CanFrame> f = EncodeMotionCtrl2({});  // CAN command mode, MOVE J, 50 %
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->id, 0x151u);
  EXPECT_THAT(f->data, ElementsAre(0x01, 0x01, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00));
  MotionCtrl2 mit;
  mit.move_mode = MoveMode::kMit;
  mit.speed_percent = 100;
  mit.mit_mode = kMitMode;
  EXPECT_THAT(EncodeMotionCtrl2(mit)->data, ElementsAre(0x01, 0x04, 0x64, 0xAD, 0, 0, 0, 0));
  MotionCtrl2 fast;
  fast.speed_percent = 101;
  EXPECT_THAT(std::string(EncodeMotionCtrl2(fast).status().message()), HasSubstr("101"));
  absl::StatusOr<MotionCtrl2> back = DecodeMotionCtrl2(*EncodeMotionCtrl2(mit));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->move_mode, MoveMode::kMit);
  EXPECT_EQ(back->speed_percent, 100);
}

TEST(PiperCanFramesTest, GripperCtrlBytes) {
  // 0.05 m = 50 mm = 50000 (0.001 mm) = 0x0000C350; 1 N*m = 1000 = 0x03E8; enable 0x01.
  absl::StatusOr<CanFrame> f = EncodeGripperCtrl({0.05, 1.0, kGripperEnable, 0x00});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->id, 0x159u);
  EXPECT_THAT(f->data, ElementsAre(0x00, 0x00, 0xC3, 0x50, 0x03, 0xE8, 0x01, 0x00));
  absl::StatusOr<CanFrame> zero =
      EncodeGripperCtrl({0.0, 0.5, kGripperDisableClearError, kGripperSetZero});
  ASSERT_TRUE(zero.ok());
  EXPECT_THAT(zero->data, ElementsAre(0, 0, 0, 0, 0x01, 0xF4, 0x02, 0xAE));
  EXPECT_THAT(std::string(EncodeGripperCtrl({0.05, 6.0, 1, 0}).status().message()),
              HasSubstr("effort 6"));
  EXPECT_FALSE(EncodeGripperCtrl({0.05, 1.0, 0x04, 0}).ok());
  absl::StatusOr<GripperCtrl> back = DecodeGripperCtrl(*f);
  ASSERT_TRUE(back.ok());
  EXPECT_DOUBLE_EQ(back->opening_m, 0.05);
  EXPECT_DOUBLE_EQ(back->effort_nm, 1.0);
}

TEST(PiperCanFramesTest, MotorEnableBytes) {
  EXPECT_THAT(EncodeMotorEnable({kAllMotors, true})->data,
              ElementsAre(0x07, 0x02, 0, 0, 0, 0, 0, 0));
  EXPECT_THAT(EncodeMotorEnable({kAllMotors, false})->data,
              ElementsAre(0x07, 0x01, 0, 0, 0, 0, 0, 0));
  EXPECT_EQ(EncodeMotorEnable({3, true})->id, 0x471u);
  EXPECT_FALSE(EncodeMotorEnable({8, true}).ok());
  absl::StatusOr<MotorEnable> m = DecodeMotorEnable(Make(0x471, {0xFF, 0x01, 0, 0, 0, 0, 0, 0}));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->motor, 0xFF);
  EXPECT_FALSE(m->enable);
}

TEST(PiperCanFramesTest, StatusFeedbackParses) {
  // CAN command mode, normal, MOVE J, no teaching, target not reached, point 0,
  // err 0x0205: joint 2 angle limit (bit 9), joints 1 and 3 communication (bits 0, 2).
  absl::StatusOr<ArmStatus> s =
      DecodeStatus(Make(0x2A1, {0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, 0x05}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ctrl_mode, 0x01);
  EXPECT_EQ(s->mode_feed, 0x01);
  EXPECT_EQ(s->motion_status, 0x01);
  EXPECT_EQ(s->err_code, 0x0205);
  EXPECT_TRUE(s->joint_limit_error(1));
  EXPECT_FALSE(s->joint_limit_error(0));
  EXPECT_TRUE(s->joint_comm_error(0));
  EXPECT_TRUE(s->joint_comm_error(2));
  EXPECT_FALSE(s->joint_comm_error(1));
  EXPECT_STREQ(ArmStatusName(0x07), "collision");
  EXPECT_EQ(EncodeStatus(*s)->data, Make(0x2A1, {1, 0, 1, 0, 1, 0, 2, 5}).data);
}

TEST(PiperCanFramesTest, JointFeedbackParses) {
  absl::StatusOr<JointPair> p =
      DecodeJointPair(Make(0x2A6, {0xFF, 0xFE, 0xA0, 0x70, 0x00, 0x00, 0xB1, 0xBC}));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->first_joint, 2);
  EXPECT_NEAR(p->rad[0], -90 * kDeg, 1e-12);
  EXPECT_NEAR(p->rad[1], 45.5 * kDeg, 1e-12);
  // The command frames decode the same way (the fake arm in the driver test reads them).
  absl::StatusOr<JointPair> c = DecodeJointPair(Make(0x157, {0, 0, 0, 1, 0, 1, 0xD4, 0xC0}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->first_joint, 4);
  EXPECT_NEAR(c->rad[1], 120 * kDeg, 1e-12);
  // Wrong id or length: a clear error.
  EXPECT_THAT(std::string(DecodeJointPair(Make(0x2A8, {})).status().message()),
              HasSubstr("0x2A8 is not a joint feedback frame"));
  CanFrame short_frame = Make(0x2A5, {});
  short_frame.len = 4;
  EXPECT_THAT(std::string(DecodeJointPair(short_frame).status().message()),
              HasSubstr("4 data bytes, expected 8"));
}

TEST(PiperCanFramesTest, GripperFeedbackParses) {
  // 70000 = 0x00011170 -> 0.07 m; effort -100 = 0xFF9C -> -0.1 N*m; status 0x40: enabled.
  absl::StatusOr<GripperFeedback> g =
      DecodeGripperFeedback(Make(0x2A8, {0x00, 0x01, 0x11, 0x70, 0xFF, 0x9C, 0x40, 0x00}));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_DOUBLE_EQ(g->opening_m, 0.07);
  EXPECT_DOUBLE_EQ(g->effort_nm, -0.1);
  EXPECT_TRUE(g->enabled());
  EXPECT_FALSE(g->fault());
  EXPECT_EQ(EncodeGripperFeedback(*g)->data, Make(0, {0, 1, 0x11, 0x70, 0xFF, 0x9C, 0x40, 0}).data);
}

TEST(PiperCanFramesTest, EndPoseAndDriverFeedbackParse) {
  // x = 0.1 m = 100000 (0.001 mm) = 0x000186A0; rz = -45 deg = -45000 = 0xFFFF5038.
  EndPose p{0.1, -0.2, 0.3, 10 * kDeg, -20 * kDeg, -45 * kDeg};
  absl::StatusOr<std::array<CanFrame, 3>> f = EncodeEndPoseFeedback(p);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)[0].id, 0x2A2u);
  EXPECT_EQ((*f)[2].id, 0x2A4u);
  EXPECT_THAT((*f)[0].data, ElementsAre(0x00, 0x01, 0x86, 0xA0, 0xFF, 0xFC, 0xF2, 0xC0));
  EXPECT_THAT((*f)[2].data, ElementsAre(0xFF, 0xFF, 0xB1, 0xE0, 0xFF, 0xFF, 0x50, 0x38));
  EndPose back;
  for (const CanFrame& c : *f) ASSERT_TRUE(DecodeEndPoseFeedback(c, &back).ok());
  EXPECT_NEAR(back.y, -0.2, 1e-9);
  EXPECT_NEAR(back.rx, 10 * kDeg, 1e-9);
  EXPECT_NEAR(back.rz, -45 * kDeg, 1e-9);
  // Driver 3 (0x263): 24.5 V = 245 = 0x00F5, 40 degC, 38 degC, enabled (0x40), 1.234 A = 0x04D2.
  absl::StatusOr<DriverLowSpeed> d =
      DecodeDriverLowSpeed(Make(0x263, {0x00, 0xF5, 0x00, 0x28, 0x26, 0x40, 0x04, 0xD2}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->joint, 2);
  EXPECT_DOUBLE_EQ(d->bus_voltage_v, 24.5);
  EXPECT_EQ(d->driver_temp_c, 40);
  EXPECT_EQ(d->motor_temp_c, 38);
  EXPECT_TRUE(d->enabled());
  EXPECT_DOUBLE_EQ(d->bus_current_a, 1.234);
  EXPECT_EQ(EncodeDriverLowSpeed(*d)->data, Make(0, {0, 0xF5, 0, 0x28, 0x26, 0x40, 4, 0xD2}).data);
}

TEST(PiperCanFramesTest, RandomJointsRoundTripWithinHalfAMillidegree) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  for (int trial = 0; trial < 200; ++trial) {
    kinematics::JointVector q(6);
    for (int j = 0; j < 6; ++j) q[j] = u(rng);
    absl::StatusOr<std::array<CanFrame, 3>> f = EncodeJointFeedback(q);
    ASSERT_TRUE(f.ok());
    for (const CanFrame& c : *f) {
      absl::StatusOr<JointPair> p = DecodeJointPair(c);
      ASSERT_TRUE(p.ok());
      for (int i = 0; i < 2; ++i) {
        EXPECT_LE(std::abs(p->rad[i] - q[p->first_joint + i]), 0.5 * kMilliDegRad + 1e-15);
      }
    }
  }
}

}  // namespace
}  // namespace mivla::client::piper
