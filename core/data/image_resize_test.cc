// ResizeWeights (the rows are weights, the kernel is cv::resize's) and ResizeSquareRgb8 against
// cv::resize on every kernel it picks.
#include "core/data/image_resize.h"

#include <array>
#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <random>
#include <utility>
#include <vector>

#include "core/data/resize_weights.h"
#include "gtest/gtest.h"

namespace mivla::data {
namespace {

// A camera-like image: smooth noise with hard-edged rectangles.
cv::Mat SceneRgb(int w, int h, uint32_t seed) {
  cv::Mat m(h, w, CV_8UC3);
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w * 3; ++x) m.ptr<uint8_t>(y)[x] = static_cast<uint8_t>(byte(gen));
  }
  cv::GaussianBlur(m, m, cv::Size(5, 5), 2.0);
  for (int i = 0; i < 30; ++i) {
    const cv::Rect r(byte(gen) % w, byte(gen) % h, 1 + byte(gen) % (w / 4 + 1), 1 + byte(gen) % (h / 4 + 1));
    cv::rectangle(m, r, cv::Scalar(byte(gen), byte(gen), byte(gen)), cv::FILLED);
  }
  return m;
}

TEST(ResizeWeightsTest, RowsSumToOneForEveryKernel) {
  for (ResizeKernel k : {ResizeKernel::kLinear, ResizeKernel::kArea, ResizeKernel::kAreaUpscale}) {
    for (auto [src, dst] : {std::pair{640, 56}, {480, 56}, {112, 56}, {40, 56}, {56, 56}, {7, 3}, {1, 5}}) {
      std::vector<float> w = ResizeWeights(src, dst, k);
      ASSERT_EQ(w.size(), static_cast<size_t>(src) * dst);
      for (int d = 0; d < dst; ++d) {
        double sum = 0;
        for (int s = 0; s < src; ++s) {
          EXPECT_GE(w[d * src + s], 0.0f);
          sum += w[d * src + s];
        }
        EXPECT_NEAR(sum, 1.0, 1e-5) << "kernel " << static_cast<int>(k) << " " << src << "->" << dst << " row " << d;
      }
    }
  }
}

TEST(ResizeWeightsTest, KernelIsTheOneCvResizeUsesForResizeForModel) {
  EXPECT_EQ(ChooseResizeKernel(640, 480, 56), ResizeKernel::kArea);
  EXPECT_EQ(ChooseResizeKernel(56, 80, 56), ResizeKernel::kArea);  // one side equal, one shrinks
  EXPECT_EQ(ChooseResizeKernel(40, 30, 56), ResizeKernel::kLinear);
  EXPECT_EQ(ChooseResizeKernel(56, 56, 56), ResizeKernel::kLinear);
  EXPECT_EQ(ChooseResizeKernel(80, 40, 56), ResizeKernel::kAreaUpscale);
}

TEST(ResizeSquareRgb8Test, GivesCvResizesPixelsWithinOneLevel) {
  // (width, height, side): area shrinks at fractional and integer ratios (computed here), the base
  // configuration's 224, one side equal, and the cases that call cv::resize (linear upscaling, the mixed
  // case, a size already right).
  const std::vector<std::array<int, 3>> cases = {{320, 240, 56}, {640, 480, 56}, {112, 112, 56}, {320, 240, 224},
                                                 {56, 80, 56},   {40, 30, 56},   {80, 40, 56},   {56, 56, 56}};
  for (const auto& [w, h, side] : cases) {
    const cv::Mat rgb = SceneRgb(w, h, static_cast<uint32_t>(w * 31 + h));
    cv::Mat want;
    cv::resize(rgb, want, cv::Size(side, side), 0, 0, w > side || h > side ? cv::INTER_AREA : cv::INTER_LINEAR);
    cv::Mat got(side, side, CV_8UC3);
    ResizeSquareRgb8(rgb.data, w, h, side, got.data);
    cv::Mat diff;
    cv::absdiff(want, got, diff);
    double worst = 0;
    cv::minMaxLoc(diff.reshape(1), nullptr, &worst);
    const double off = cv::countNonZero(diff.reshape(1)) / static_cast<double>(side * side * 3);
    EXPECT_LE(worst, 1.0) << w << "x" << h << " -> " << side;
    EXPECT_LT(off, 0.01) << w << "x" << h << " -> " << side << ": " << 100 * off << " % of the values differ";
    if (w <= side || h <= side) {  // delegated: the same call as cv::resize's, so the same pixels
      EXPECT_EQ(off, 0.0) << "cv::resize itself";
    }
  }
}

TEST(ResizeSquareRgb8Test, AnAreaShrinkWeighsEachSourcePixelByWhatItCovers) {
  // 3 x 3 -> 2 x 2 (both sides shrink: computed here, not by cv::resize). Output 0 covers source [0, 1.5):
  // pixel 0 weighs 2/3, pixel 1 1/3; output 1 covers [1.5, 3): pixel 1 1/3, pixel 2 2/3, on each axis.
  const int v[3][3] = {{0, 30, 90}, {60, 120, 180}, {150, 210, 255}};
  std::vector<uint8_t> rgb;
  for (const auto& row : v) {
    for (int x : row) rgb.insert(rgb.end(), {static_cast<uint8_t>(x), static_cast<uint8_t>(255 - x), 0});
  }
  std::vector<uint8_t> out(2 * 2 * 3);
  ResizeSquareRgb8(rgb.data(), 3, 3, 2, out.data());
  // Rows first: (10, 70), (80, 160), (170, 240); then columns: 33.3, 100, 140, 213.3 (green: 255 minus).
  const std::vector<uint8_t> want = {33, 222, 0, 100, 155, 0, 140, 115, 0, 213, 42, 0};
  EXPECT_EQ(out, want);
}

}  // namespace
}  // namespace mivla::data
