#include "server/inference/observation_input.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/inference/test_requests.h"

namespace mivla::server {
namespace {

using ::testing::HasSubstr;
using action::Embodiment;

absl::Status Check(const mivla::v1::ObserveRequest& r, Embodiment e) {
  return ValidateObservation(r, testing::SpecFor(e), InputLimits{});
}

TEST(ObservationInputTest, WellFormedRequestsPassForEveryEmbodiment) {
  for (Embodiment e : action::kAllEmbodiments) {
    EXPECT_TRUE(Check(testing::ObserveFor(e, "s", 1), e).ok()) << action::EmbodimentName(e);
    EXPECT_TRUE(Check(testing::ObserveFor(e, "s", 1, /*raw=*/true), e).ok());
  }
}

TEST(ObservationInputTest, JpegDecodesToRgbOrder) {
  mivla::v1::Image im;
  im.set_encoding(mivla::v1::JPEG);
  im.set_data(testing::SolidJpeg(32, 24, 255, 0, 0));
  auto rgb = DecodeImage(im, "images[0]", InputLimits{});
  ASSERT_TRUE(rgb.ok()) << rgb.status();
  ASSERT_EQ(rgb->cols, 32);
  cv::Vec3b px = rgb->at<cv::Vec3b>(10, 10);
  EXPECT_GT(px[0], 240);  // red first
  EXPECT_LT(px[2], 15);
}

TEST(ObservationInputTest, BadImagesNameTheField) {
  auto r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  r.mutable_images(1)->set_data("definitely not a jpeg");
  auto decoded = DecodeImage(r.images(1), "images[1]", InputLimits{});
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), HasSubstr("images[1].data: not a JPEG"));

  r = testing::ObserveFor(Embodiment::kPiper, "s", 1, /*raw=*/true);
  r.mutable_images(0)->mutable_data()->pop_back();
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("images[0].data: 230399 bytes"));

  r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  r.mutable_images(0)->set_camera("wrong");
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("images[0].camera"));
  r.mutable_images()->RemoveLast();
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("images: expected one image per session camera"));

  r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  InputLimits small;
  small.max_image_bytes = 100;
  EXPECT_THAT(ValidateObservation(r, testing::SpecFor(Embodiment::kPiper), small).message(),
              HasSubstr("images[0].data"));
}

TEST(ObservationInputTest, ProprioceptionShapeAndValuesPerEmbodiment) {
  auto r = testing::ObserveFor(Embodiment::kArx5, "s", 1);
  r.mutable_proprioception()->mutable_right()->set_joint_positions(2, std::nan(""));
  absl::Status s = Check(r, Embodiment::kArx5);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("proprioception.right.joint_positions[2]: is NaN or Inf"));

  r = testing::ObserveFor(Embodiment::kArx5, "s", 1);
  r.mutable_proprioception()->mutable_right()->add_joint_positions(0.0);
  EXPECT_THAT(Check(r, Embodiment::kArx5).message(), HasSubstr("expected 6 values for this embodiment, got 7"));

  r = testing::ObserveFor(Embodiment::kAlohaAgilex, "s", 1);
  r.mutable_proprioception()->clear_left();
  EXPECT_THAT(Check(r, Embodiment::kAlohaAgilex).message(), HasSubstr("proprioception.left: required"));

  r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  *r.mutable_proprioception()->mutable_left() = r.proprioception().right();
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("proprioception.left: must be empty"));

  r = testing::ObserveFor(Embodiment::kHuman, "s", 1);
  r.mutable_proprioception()->set_unified(5, std::numeric_limits<float>::infinity());
  EXPECT_THAT(Check(r, Embodiment::kHuman).message(), HasSubstr("proprioception.unified[5]"));
  r.mutable_proprioception()->mutable_unified()->RemoveLast();
  EXPECT_THAT(Check(r, Embodiment::kHuman).message(), HasSubstr("expected 76 values, got 75"));
  r.mutable_proprioception()->clear_unified();
  EXPECT_THAT(Check(r, Embodiment::kHuman).message(), HasSubstr("HUMAN session sends its hands"));

  r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  r.mutable_proprioception()->mutable_right()->mutable_end_effector()->set_qw(3.0);
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("proprioception.right.end_effector: quaternion"));

  r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  r.set_instruction(std::string(2000, 'a'));
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("instruction: 2000 bytes; at most 1024"));
}

TEST(ObservationInputTest, StateGoesToTheEmbodimentSlots) {
  auto r = testing::ObserveFor(Embodiment::kPiper, "s", 3);
  RawState st = StateFromProprioception(r.proprioception(), Embodiment::kPiper);
  EXPECT_FLOAT_EQ(st.values[action::kJointsRight.begin + 2], static_cast<float>(r.proprioception().right().joint_positions(2)));
  EXPECT_FLOAT_EQ(st.values[action::kJointsRight.begin + action::kArmGripper], 0.04f);
  EXPECT_FLOAT_EQ(st.values[action::kEndEffectorRight.begin + 1], -0.1f);
  EXPECT_EQ(st.mask, action::EmbodimentMask(Embodiment::kPiper));
  // Without an end-effector pose the EE slots are masked out.
  r.mutable_proprioception()->mutable_right()->clear_end_effector();
  st = StateFromProprioception(r.proprioception(), Embodiment::kPiper);
  EXPECT_FALSE(st.mask.test(action::kEndEffectorRight.begin));
  EXPECT_TRUE(st.mask.test(action::kJointsRight.begin));
}

TEST(ObservationInputTest, EmbodimentEnumMapping) {
  EXPECT_EQ(*EmbodimentFromProto(mivla::v1::LOCOMAN, "embodiment"), Embodiment::kLocoman);
  EXPECT_EQ(EmbodimentToProto(Embodiment::kHuman), mivla::v1::HUMAN);
  EXPECT_THAT(EmbodimentFromProto(0, "embodiment").status().message(), HasSubstr("embodiment: EMBODIMENT_UNSPECIFIED"));
  EXPECT_THAT(EmbodimentFromProto(42, "embodiment").status().message(), HasSubstr("unknown embodiment value 42"));
}

}  // namespace
}  // namespace mivla::server
