#include "server/inference/image_header.h"

#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/inference/hostile_images.h"
#include "server/inference/test_requests.h"

namespace mivla::server {
namespace {

using ::testing::HasSubstr;

TEST(ImageHeaderTest, ReadsJpegFrameHeaderBaselineAndProgressive) {
  auto dims = ReadJpegHeader(testing::SolidJpeg(32, 24, 10, 20, 30));
  ASSERT_TRUE(dims.ok()) << dims.status();
  EXPECT_EQ(dims->width, 32);
  EXPECT_EQ(dims->height, 24);
  cv::Mat bgr(17, 45, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<uint8_t> buf;
  cv::imencode(".jpg", bgr, buf, {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  dims = ReadJpegHeader(std::string(buf.begin(), buf.end()));
  ASSERT_TRUE(dims.ok()) << dims.status();
  EXPECT_EQ(dims->width, 45);
  EXPECT_EQ(dims->height, 17);
}

TEST(ImageHeaderTest, SeesTheSizeABombClaims) {
  const std::string bomb = testing::JpegClaiming(30000, 30000);
  EXPECT_LT(bomb.size(), 1000u);
  auto dims = ReadJpegHeader(bomb);
  ASSERT_TRUE(dims.ok()) << dims.status();
  EXPECT_EQ(dims->width, 30000);
  EXPECT_EQ(dims->height, 30000);

  const absl::Time t0 = absl::Now();
  const std::string png = testing::ZeroPng(30000, 30000);
  EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
  EXPECT_GT(png.size(), 2000000u);  // the 2.6 MB PNG
  EXPECT_LT(png.size(), 4000000u);
  dims = ReadPngHeader(png);
  ASSERT_TRUE(dims.ok()) << dims.status();
  EXPECT_EQ(dims->width, 30000);
  EXPECT_EQ(dims->height, 30000);
}

TEST(ImageHeaderTest, ZeroPngIsARealPng) {
  const std::string png = testing::ZeroPng(64, 48);
  cv::Mat decoded = cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8UC1, const_cast<char*>(png.data())),
                                 cv::IMREAD_COLOR);
  ASSERT_FALSE(decoded.empty());
  EXPECT_EQ(decoded.cols, 64);
  EXPECT_EQ(decoded.rows, 48);
  EXPECT_EQ(cv::countNonZero(decoded.reshape(1)), 0);
}

TEST(ImageHeaderTest, RefusesWhatIsNotTheDeclaredFormat) {
  const std::string jpeg = testing::SolidJpeg(8, 8, 0, 0, 0);
  const std::string png = testing::ZeroPng(8, 8);
  EXPECT_THAT(ReadPngHeader(jpeg).status().message(), HasSubstr("not a PNG"));
  EXPECT_THAT(ReadJpegHeader(png).status().message(), HasSubstr("not a JPEG"));
  EXPECT_FALSE(ReadJpegHeader("").ok());
  EXPECT_FALSE(ReadPngHeader("\x89PNG").ok());
  std::string bad_ihdr = png;
  bad_ihdr[11] = 12;  // IHDR length
  EXPECT_THAT(ReadPngHeader(bad_ihdr).status().message(), HasSubstr("IHDR"));
  std::string zero = png;
  for (int i = 16; i < 20; ++i) zero[i] = 0;  // width 0
  EXPECT_THAT(ReadPngHeader(zero).status().message(), HasSubstr("invalid"));
  // Scan data before any frame header.
  EXPECT_THAT(ReadJpegHeader(std::string("\xFF\xD8\xFF\xDA\x00\x02", 6)).status().message(), HasSubstr("scan data"));
  EXPECT_THAT(ReadJpegHeader(std::string("\xFF\xD8\x12\x34", 4)).status().message(), HasSubstr("should start a marker"));
}

TEST(ImageHeaderTest, EveryTruncationIsAnErrorOrTheRightSize) {
  const std::string jpeg = testing::SolidJpeg(40, 30, 5, 6, 7);
  const std::string png = testing::ZeroPng(40, 30);
  for (size_t n = 0; n < jpeg.size(); ++n) {
    auto d = ReadJpegHeader(absl::string_view(jpeg).substr(0, n));
    if (d.ok()) {
      EXPECT_EQ(d->width, 40) << n;
    }
  }
  for (size_t n = 0; n < png.size(); ++n) {
    auto d = ReadPngHeader(absl::string_view(png).substr(0, n));
    if (d.ok()) {
      EXPECT_EQ(d->height, 30) << n;
    }
    if (n < 29) {
      EXPECT_FALSE(d.ok()) << n;
    }
  }
}

}  // namespace
}  // namespace mivla::server
