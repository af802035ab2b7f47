// File: request_builder_test.cc
#include "proto/request_builder.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace mivla::request {
namespace {

using action::Embodiment;

TEST(RequestBuilderTest, EmbodimentRoundTripAndBadValue) {
  for (Embodiment e : action::kAllEmbodiments) {
    absl::StatusOr<Embodiment> back = EmbodimentFromProto(EmbodimentToProto(e), "x");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, e);
  }
  EXPECT_EQ(EmbodimentToProto(Embodiment::kPiper), mivla::v1::PIPER);
  absl::StatusOr<Embodiment> bad = EmbodimentFromProto(0, "request.embodiment");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("request.embodiment"), std::string::npos);
  EXPECT_FALSE(EmbodimentFromProto(9, "x").ok());
}

TEST(RequestBuilderTest, StartSessionCarriesLayout) {
  SessionSpec s{Embodiment::kLocoman, {{"head_camera", 320, 240}, {"right_camera", 160, 120}}, "lift the pot",
                "lift_pot", "robot-7", 25.0};
  mivla::v1::StartSessionRequest r = BuildStartSession(s);
  EXPECT_EQ(r.embodiment(), mivla::v1::LOCOMAN);
  ASSERT_EQ(r.cameras_size(), 2);
  EXPECT_EQ(r.cameras(1).name(), "right_camera");
  EXPECT_EQ(r.cameras(1).width(), 160u);
  EXPECT_EQ(r.task(), "lift_pot");
  EXPECT_DOUBLE_EQ(r.control_rate_hz(), 25.0);
}

TEST(RequestBuilderTest, ArmStateRoundTrip) {
  NativeArm a;
  a.left = true;
  a.joints = {0.1, -0.2, 0.3, -0.4, 0.5, -0.6};
  a.gripper = 0.03;
  a.has_pose = true;
  a.ee = Eigen::Translation3d(0.3, -0.1, 0.2) * Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized());
  mivla::v1::Proprioception p;
  SetArmStates({a}, &p);
  EXPECT_TRUE(p.has_left());
  EXPECT_FALSE(p.has_right());
  absl::StatusOr<NativeArm> back = ArmFromProto(p.left(), true, "proprioception.left");
  ASSERT_TRUE(back.ok()) << back.status();
  for (int j = 0; j < 6; ++j) EXPECT_DOUBLE_EQ(back->joints[j], a.joints[j]);
  EXPECT_DOUBLE_EQ(back->gripper, 0.03);
  EXPECT_TRUE(back->ee.isApprox(a.ee, 1e-9));
  EXPECT_GE(p.left().end_effector().qw(), 0.0);
}

TEST(RequestBuilderTest, RawImageBytes) {
  std::vector<uint8_t> rgb(4 * 2 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i);
  mivla::v1::ObserveRequest r;
  AddRawImage("head_camera", 4, 2, rgb.data(), 77, &r);
  ASSERT_EQ(r.images_size(), 1);
  EXPECT_EQ(r.images(0).encoding(), mivla::v1::RAW_RGB8);
  EXPECT_EQ(r.images(0).data().size(), rgb.size());
  EXPECT_EQ(static_cast<uint8_t>(r.images(0).data()[5]), 5);
  EXPECT_EQ(r.images(0).capture_time_us(), 77);
}

mivla::v1::ActionChunk TwoArmChunk(int steps) {
  mivla::v1::ActionChunk c;
  c.set_embodiment(mivla::v1::ALOHA_AGILEX);
  c.set_control_period_s(0.04);
  c.set_observation_id(3);
  for (int h = 0; h < steps; ++h) {
    mivla::v1::ActionStep* s = c.add_steps();
    s->set_timestamp_us(1000 + h * 40000);
    for (int j = 0; j < 6; ++j) {
      s->mutable_right()->add_joint_positions(0.01 * h + j);
      s->mutable_left()->add_joint_positions(-0.01 * h - j);
    }
    s->mutable_right()->set_gripper(0.02);
    for (int d = 0; d < action::kActionDim; ++d) s->add_unified(0.5f * d);
  }
  return c;
}

TEST(RequestBuilderTest, DecodeChunkReadsBothArms) {
  absl::StatusOr<DecodedChunk> c = DecodeChunk(TwoArmChunk(3), Embodiment::kAlohaAgilex);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->steps.size(), 3u);
  EXPECT_EQ(c->observation_id, 3u);
  EXPECT_EQ(c->steps[2].time_us, 1000 + 2 * 40000);
  ASSERT_EQ(c->steps[2].arms.size(), 2u);
  EXPECT_FALSE(c->steps[2].arms[0].left);
  EXPECT_TRUE(c->steps[2].arms[1].left);
  EXPECT_DOUBLE_EQ(c->steps[2].arms[1].joints[3], -0.02 - 3);
  EXPECT_TRUE(c->steps[0].has_unified);
  EXPECT_FLOAT_EQ(c->steps[0].unified[10], 5.0f);
}

TEST(RequestBuilderTest, DecodeChunkErrorsNameTheField) {
  absl::StatusOr<DecodedChunk> wrong = DecodeChunk(TwoArmChunk(2), Embodiment::kPiper);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("chunk.embodiment"), std::string::npos);

  mivla::v1::ActionChunk short_arm = TwoArmChunk(2);
  short_arm.mutable_steps(1)->mutable_left()->mutable_joint_positions()->RemoveLast();
  absl::StatusOr<DecodedChunk> s = DecodeChunk(short_arm, Embodiment::kAlohaAgilex);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("chunk.steps[1].left.joint_positions: 5 values"), std::string::npos)
      << s.status();

  mivla::v1::ActionChunk back_in_time = TwoArmChunk(3);
  back_in_time.mutable_steps(2)->set_timestamp_us(0);
  EXPECT_FALSE(DecodeChunk(back_in_time, Embodiment::kAlohaAgilex).ok());
  EXPECT_FALSE(DecodeChunk(mivla::v1::ActionChunk(), Embodiment::kPiper).ok());
}

TEST(RequestBuilderTest, NonFiniteTargetsPassThrough) {
  mivla::v1::ActionChunk c = TwoArmChunk(1);
  c.mutable_steps(0)->mutable_right()->set_joint_positions(2, std::numeric_limits<double>::quiet_NaN());
  absl::StatusOr<DecodedChunk> d = DecodeChunk(c, Embodiment::kAlohaAgilex);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(std::isnan(d->steps[0].arms[0].joints[2]));
}

}  // namespace
}  // namespace mivla::request
