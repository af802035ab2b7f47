#include "server/inference/input_ranges.h"

#include <limits>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/inference/hostile_images.h"
#include "server/inference/observation_input.h"
#include "server/inference/test_requests.h"

namespace mivla::server {
namespace {

using ::testing::HasSubstr;
using action::Embodiment;

class InputRangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = InputRanges::Load();
    ASSERT_TRUE(r.ok()) << r.status();
    ranges_ = *r;
  }
  absl::Status Check(const mivla::v1::ObserveRequest& r, Embodiment e) {
    return ValidateObservation(r, testing::SpecFor(e), InputLimits{}, &ranges_);
  }
  InputRanges ranges_;
};

TEST_F(InputRangesTest, LoadsArmLimitsFromTheEmbodimentFiles) {
  const ArmRange& piper = ranges_.arm(Embodiment::kPiper, 1);
  ASSERT_TRUE(piper.known);
  EXPECT_NEAR(piper.lower[0], -2.6179, 1e-9);
  EXPECT_NEAR(piper.gripper_max, 0.07, 1e-9);
  EXPECT_FALSE(ranges_.arm(Embodiment::kPiper, 0).known);
  EXPECT_TRUE(ranges_.arm(Embodiment::kAlohaAgilex, 0).known);
  EXPECT_FALSE(ranges_.arm(Embodiment::kHuman, 1).known);
}

TEST_F(InputRangesTest, WellFormedRequestsPass) {
  for (Embodiment e : action::kAllEmbodiments) {
    for (uint64_t seed = 1; seed < 20; ++seed) {
      absl::Status s = Check(testing::ObserveFor(e, "s", seed), e);
      EXPECT_TRUE(s.ok()) << action::EmbodimentName(e) << " seed " << seed << ": " << s;
    }
  }
}

TEST_F(InputRangesTest, OutOfRangeValuesNameTheField) {
  auto r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  r.mutable_proprioception()->mutable_right()->set_joint_positions(0, 1e300);  // finite double, inf as float
  absl::Status s = Check(r, Embodiment::kPiper);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("proprioception.right.joint_positions[0]: 1e+300 is outside [-2.8179, 2.8179]"));
  // Without embodiment ranges the generic +-(2 pi + margin) bound still refuses it.
  EXPECT_THAT(ValidateObservation(r, testing::SpecFor(Embodiment::kPiper), InputLimits{}).message(),
              HasSubstr("proprioception.right.joint_positions[0]"));

  r = testing::ObserveFor(Embodiment::kAlohaAgilex, "s", 1);
  r.mutable_proprioception()->mutable_left()->set_gripper(0.5);
  EXPECT_THAT(Check(r, Embodiment::kAlohaAgilex).message(), HasSubstr("proprioception.left.gripper: 0.5 is outside"));

  r = testing::ObserveFor(Embodiment::kArx5, "s", 1);
  r.mutable_proprioception()->mutable_right()->mutable_end_effector()->set_z(1e6);
  EXPECT_THAT(Check(r, Embodiment::kArx5).message(), HasSubstr("proprioception.right.end_effector.z: 1e+06"));

  r = testing::ObserveFor(Embodiment::kHuman, "s", 1);
  r.mutable_proprioception()->set_unified(7, 3e38f);
  EXPECT_THAT(Check(r, Embodiment::kHuman).message(), HasSubstr("proprioception.unified[7]"));
}

TEST_F(InputRangesTest, TimesAreBoundedSoStepArithmeticCannotOverflow) {
  auto r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  r.set_timestamp_us(std::numeric_limits<int64_t>::max() - 5);
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("timestamp_us: 9223372036854775802 us is outside"));
  r.set_timestamp_us(-1);
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("timestamp_us"));
  r.set_timestamp_us(absl::ToUnixMicros(absl::Now()));  // a wall-clock robot
  EXPECT_TRUE(Check(r, Embodiment::kPiper).ok());
  r.mutable_images(1)->set_capture_time_us(std::numeric_limits<int64_t>::min());
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("images[1].capture_time_us"));
}

TEST_F(InputRangesTest, ImageHeadersAreCheckedBeforeDecoding) {
  auto r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  r.mutable_images(0)->set_data(testing::JpegClaiming(30000, 30000));
  const absl::Time t0 = absl::Now();
  absl::Status s = Check(r, Embodiment::kPiper);
  EXPECT_LT(absl::Now() - t0, absl::Milliseconds(50));
  EXPECT_THAT(s.message(), HasSubstr("images[0]: JPEG size 30000x30000 exceeds 4096"));

  r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  r.mutable_images(1)->set_encoding(mivla::v1::PNG);
  r.mutable_images(1)->set_data(testing::ZeroPng(30000, 30000));
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("images[1]: PNG size 30000x30000 exceeds"));

  // Within the limits but not the size the session declared for the camera (320x240).
  r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  r.mutable_images(1)->set_data(testing::JpegClaiming(2000, 2000));
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(),
              HasSubstr("images[1]: image is 2000x2000 but the session declared camera 'right_camera' as 320x240"));

  // The pixel limit applies even within the per-side limit.
  InputLimits small;
  small.max_image_pixels = 1000;
  r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  EXPECT_THAT(ValidateObservation(r, testing::SpecFor(Embodiment::kPiper), small).message(),
              HasSubstr("exceeds 1000 pixels (--max-image-pixels)"));

  // PNG-declared bytes that are a JPEG never reach a decoder.
  r = testing::ObserveFor(Embodiment::kPiper, "s", 1);
  r.mutable_images(0)->set_encoding(mivla::v1::PNG);
  EXPECT_THAT(Check(r, Embodiment::kPiper).message(), HasSubstr("images[0].data: not a PNG"));
  // A decoder-facing caller gets the same refusal (DecodeImage checks the header again).
  EXPECT_THAT(DecodeImage(r.images(0), "images[0]", InputLimits{}).status().message(), HasSubstr("not a PNG"));
  r.mutable_images(0)->set_encoding(mivla::v1::JPEG);
  r.mutable_images(0)->set_data(testing::JpegClaiming(30000, 30000));
  EXPECT_THAT(DecodeImage(r.images(0), "images[0]", InputLimits{}).status().message(), HasSubstr("exceeds"));
}

TEST_F(InputRangesTest, SessionStringsAreBounded) {
  SessionSpec spec = testing::SpecFor(Embodiment::kPiper);
  spec.robot_id = std::string(15 << 20, 'r');
  EXPECT_THAT(ValidateSessionSpec(spec, InputLimits{}).message(),
              HasSubstr("robot_id: 15728640 bytes; at most 128 (--max-robot-id-bytes)"));
  spec = testing::SpecFor(Embodiment::kPiper);
  spec.task = "t\xFF";
  EXPECT_THAT(ValidateSessionSpec(spec, InputLimits{}).message(), HasSubstr("task: not valid UTF-8"));
  spec = testing::SpecFor(Embodiment::kPiper);
  spec.cameras[0].name = std::string(1000, 'c');
  EXPECT_THAT(ValidateSessionSpec(spec, InputLimits{}).message(), HasSubstr("cameras[0].name: 1000 bytes"));
  spec = testing::SpecFor(Embodiment::kPiper);
  spec.cameras[0].width = spec.cameras[0].height = 4096;
  EXPECT_THAT(ValidateSessionSpec(spec, InputLimits{}).message(), HasSubstr("(--max-image-pixels)"));
}

}  // namespace
}  // namespace mivla::server
