#include "server/inference/encode_stage.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "server/inference/test_requests.h"

namespace mivla::server {
namespace {

mivla::v1::ObserveRequest TwoImages(const std::string& first, mivla::v1::ImageEncoding first_encoding) {
  mivla::v1::ObserveRequest req;
  mivla::v1::Image* a = req.add_images();
  a->set_camera("head_camera");
  a->set_encoding(first_encoding);
  a->set_data(first);
  mivla::v1::Image* b = req.add_images();  // raw 4 x 2, all (10, 20, 30)
  b->set_camera("right_camera");
  b->set_encoding(mivla::v1::RAW_RGB8);
  b->set_width(4);
  b->set_height(2);
  std::string raw;
  for (int i = 0; i < 8; ++i) raw += std::string{10, 20, 30};
  b->set_data(raw);
  return req;
}

TEST(DecodeForModelTest, DecodesAndResizesEveryImageForAServerSideRuntime) {
  const mivla::v1::ObserveRequest req = TwoImages(testing::SolidJpeg(120, 90, 200, 40, 40), mivla::v1::JPEG);
  std::vector<RuntimeImage> out;
  ASSERT_TRUE(DecodeForModel(req, 56, /*pass_jpeg=*/false, InputLimits{}, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  for (const RuntimeImage& im : out) {
    EXPECT_EQ(im.width, 56);
    EXPECT_EQ(im.height, 56);
    EXPECT_EQ(im.rgb.size(), 56u * 56u * 3u);
    EXPECT_TRUE(im.jpeg.empty());
  }
  EXPECT_NEAR(out[0].rgb[0], 200, 3);  // solid red survives decoding and the area filter
  EXPECT_EQ(out[1].rgb[3 * 100 + 1], 20);
}

TEST(DecodeForModelTest, PassesJpegThroughWithItsHeaderSizeWhenTheRuntimeDecodes) {
  const std::string jpeg = testing::SolidJpeg(120, 90, 200, 40, 40);
  const mivla::v1::ObserveRequest req = TwoImages(jpeg, mivla::v1::JPEG);
  std::vector<RuntimeImage> out;
  ASSERT_TRUE(DecodeForModel(req, 56, /*pass_jpeg=*/true, InputLimits{}, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].jpeg, jpeg);  // bytes untouched
  EXPECT_EQ(out[0].width, 120);
  EXPECT_EQ(out[0].height, 90);
  EXPECT_TRUE(out[0].rgb.empty());
  // A raw image is still resized by the server: only JPEG goes to the device.
  EXPECT_TRUE(out[1].jpeg.empty());
  EXPECT_EQ(out[1].width, 56);
  EXPECT_EQ(out[1].rgb.size(), 56u * 56u * 3u);
}

TEST(DecodeForModelTest, PngIsDecodedOnTheServerEvenWhenTheRuntimeTakesJpeg) {
  cv::Mat bgr(30, 40, CV_8UC3, cv::Scalar(5, 6, 7));
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", bgr, png));
  const mivla::v1::ObserveRequest req = TwoImages(std::string(png.begin(), png.end()), mivla::v1::PNG);
  std::vector<RuntimeImage> out;
  ASSERT_TRUE(DecodeForModel(req, 56, /*pass_jpeg=*/true, InputLimits{}, &out).ok());
  EXPECT_TRUE(out[0].jpeg.empty());
  EXPECT_EQ(out[0].width, 56);
  EXPECT_EQ(out[0].rgb[0], 7);  // R of a BGR (5, 6, 7) image
}

TEST(DecodeForModelTest, AJpegWhoseHeaderDoesNotParseIsRefusedNamingTheImage) {
  const mivla::v1::ObserveRequest req = TwoImages("not a jpeg", mivla::v1::JPEG);
  std::vector<RuntimeImage> out;
  const absl::Status s = DecodeForModel(req, 56, /*pass_jpeg=*/true, InputLimits{}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("images[0].data"), std::string::npos) << s;
}

TEST(DecodeForModelTest, OneViewDecodesAloneIntoItsSlotAndItsErrorNamesIt) {
  mivla::v1::ObserveRequest req = TwoImages(testing::SolidJpeg(120, 90, 200, 40, 40), mivla::v1::JPEG);
  RuntimeImage second;
  second.jpeg = "left over";  // replaced, not appended to
  ASSERT_TRUE(DecodeViewForModel(req, 1, 56, /*pass_jpeg=*/true, InputLimits{}, &second).ok());
  EXPECT_TRUE(second.jpeg.empty());  // the raw second image, resized
  EXPECT_EQ(second.width, 56);
  EXPECT_EQ(second.rgb[3 * 100 + 1], 20);
  req.mutable_images(1)->set_encoding(mivla::v1::JPEG);
  req.mutable_images(1)->set_data("not a jpeg");
  RuntimeImage first;
  EXPECT_TRUE(DecodeViewForModel(req, 0, 56, /*pass_jpeg=*/false, InputLimits{}, &first).ok());
  EXPECT_NEAR(first.rgb[0], 200, 3);
  for (bool pass_jpeg : {false, true}) {
    const absl::Status s = DecodeViewForModel(req, 1, 56, pass_jpeg, InputLimits{}, &second);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("images[1]"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace mivla::server
