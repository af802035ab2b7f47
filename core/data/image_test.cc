#include "core/data/image.h"

#include "gtest/gtest.h"
#include "opencv2/core.hpp"
#include "opencv2/imgcodecs.hpp"
#include "core/data/test_util.h"

namespace mivla::data {
namespace {

TEST(ImageTest, StandardJpegRoundTripKeepsRed) {
  RgbImage red = RgbImage::Solid(32, 24, 255, 0, 0);
  auto bytes = EncodeJpeg(red, JpegChannelOrder::kStandard);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto back = DecodeJpeg(*bytes, JpegChannelOrder::kStandard);
  ASSERT_TRUE(back.ok()) << back.status();
  auto mean = MeanRgb(*back);
  EXPECT_GT(mean[0], 245);
  EXPECT_LT(mean[1], 10);
  EXPECT_LT(mean[2], 10);
  // A standard JPEG decoded by OpenCV (BGR output) has red in its third channel.
  std::vector<uint8_t> buf(bytes->begin(), bytes->end());
  cv::Mat bgr = cv::imdecode(buf, cv::IMREAD_COLOR);
  EXPECT_GT(bgr.at<cv::Vec3b>(5, 5)[2], 245);
  EXPECT_LT(bgr.at<cv::Vec3b>(5, 5)[0], 10);
}

TEST(ImageTest, RoboTwinOrderMatchesRgbArrayPassedToImencode) {
  // RoboTwin: cv2.imencode(rgb_array). Build that file independently and check both directions.
  cv::Mat rgb_array(24, 32, CV_8UC3, cv::Scalar(255, 0, 0));  // memory order R=255, G=0, B=0
  std::vector<uint8_t> robotwin_file;
  ASSERT_TRUE(cv::imencode(".jpg", rgb_array, robotwin_file));
  const std::string bytes(robotwin_file.begin(), robotwin_file.end());
  auto as_robotwin = DecodeJpeg(bytes, JpegChannelOrder::kRoboTwin);
  ASSERT_TRUE(as_robotwin.ok());
  EXPECT_GT(MeanRgb(*as_robotwin)[0], 245);
  EXPECT_LT(MeanRgb(*as_robotwin)[2], 10);
  // The trap: an RGB-native (standard) decoder sees blue.
  auto as_standard = DecodeJpeg(bytes, JpegChannelOrder::kStandard);
  ASSERT_TRUE(as_standard.ok());
  EXPECT_LT(MeanRgb(*as_standard)[0], 10);
  EXPECT_GT(MeanRgb(*as_standard)[2], 245);
  // Our RoboTwin encoder writes the same pixels as RoboTwin's.
  auto ours = EncodeJpeg(RgbImage::Solid(32, 24, 255, 0, 0), JpegChannelOrder::kRoboTwin);
  ASSERT_TRUE(ours.ok());
  auto ours_std = DecodeJpeg(*ours, JpegChannelOrder::kStandard);
  ASSERT_TRUE(ours_std.ok());
  EXPECT_LE(MaxAbsDiff(*ours_std, *as_standard), 2);
}

TEST(ImageTest, GradientRoundTripWithinJpegTolerance) {
  RgbImage img = testing::GradientImage(64, 48, 2);
  for (JpegChannelOrder order : {JpegChannelOrder::kStandard, JpegChannelOrder::kRoboTwin}) {
    auto bytes = EncodeJpeg(img, order, 95);
    ASSERT_TRUE(bytes.ok());
    std::string padded = *bytes + std::string(100, '\0');  // RoboTwin's fixed-width padding
    auto back = DecodeJpeg(padded, order);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_LT(MeanAbsDiff(img, *back), 2.0);
    EXPECT_LT(MaxAbsDiff(img, *back), 20);
  }
}

TEST(ImageTest, BadInputIsAnError) {
  EXPECT_FALSE(DecodeJpeg(std::string(50, 'x'), JpegChannelOrder::kStandard).ok());
  EXPECT_FALSE(DecodeJpeg(std::string(10, '\0'), JpegChannelOrder::kStandard).ok());
  RgbImage broken;
  broken.width = 4;
  broken.height = 4;
  broken.rgb.resize(5);
  auto s = EncodeJpeg(broken, JpegChannelOrder::kStandard);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("width*height*3"), std::string::npos);
}

}  // namespace
}  // namespace mivla::data
