// The GPU path's image steps, run on the CPU: OpenCV's resize weights as matrices (against the server's
// own ResizeForModel, i.e. data::ResizeSquareRgb8 for area shrinks and cv::resize otherwise, on every kernel
// it picks), the batched resize on a torch device,
// and the CPU JPEG decoder that nvJPEG falls back to.
#include "server/runtime/device_images.h"

#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/data/resize_weights.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/inference/encode_stage.h"

namespace mivla::server {
namespace {

using ::testing::HasSubstr;

cv::Mat RandomRgb(int width, int height, uint32_t seed) {
  std::mt19937 rng(seed);
  cv::Mat m(height, width, CV_8UC3);
  // Smooth gradients plus noise: both flat and busy regions reach the filters.
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      cv::Vec3b& p = m.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>((x * (c + 1) + y * 2 + rng() % 64) % 256);
    }
  }
  return m;
}

at::Tensor AsTensor(const cv::Mat& rgb) {
  return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8).clone();
}

TEST(ResizeOnDeviceTest, MatchesTheServersResizeWithinOneLevelOnEveryKernel) {
  // (width, height, side): area at a fractional and an integer ratio, linear upscaling, the mixed case,
  // a size already right, and the base configuration's 224.
  const std::vector<std::array<int, 3>> cases = {{640, 480, 56}, {112, 112, 56}, {40, 30, 56},
                                                 {80, 40, 56},   {56, 56, 56},   {320, 240, 224}};
  for (const auto& [w, h, side] : cases) {
    const cv::Mat rgb = RandomRgb(w, h, static_cast<uint32_t>(w * 31 + h));
    const cv::Mat expected = ResizeForModel(rgb, side);
    const at::Tensor got = ResizeOnDevice({AsTensor(rgb)}, side);
    ASSERT_EQ(got.sizes(), (std::vector<int64_t>{1, 3, side, side}));
    const at::Tensor levels = got[0].permute({1, 2, 0}).mul(255.0f).round();  // [side, side, 3]
    EXPECT_LE(levels.sub(levels.round()).abs().max().item<float>(), 1e-3f) << "outputs are 8-bit levels";
    const at::Tensor want = AsTensor(expected).to(torch::kFloat);
    const at::Tensor diff = levels.sub(want).abs();
    EXPECT_LE(diff.max().item<float>(), 1.0f) << w << "x" << h << " -> " << side;
    std::cout << w << "x" << h << " -> " << side << ": mean difference " << diff.mean().item<float>() << " levels\n";
    EXPECT_LT(diff.mean().item<float>(), 0.15f) << w << "x" << h << " -> " << side << ": mostly exact";
  }
}

TEST(ResizeOnDeviceTest, ABatchOfMixedSizesKeepsItsOrder) {
  const cv::Mat a = RandomRgb(320, 240, 1), b = RandomRgb(100, 60, 2), c = RandomRgb(320, 240, 3);
  const at::Tensor batch = ResizeOnDevice({AsTensor(a), AsTensor(b), AsTensor(c)}, 56);
  ASSERT_EQ(batch.size(0), 3);
  int i = 0;
  for (const cv::Mat* m : {&a, &b, &c}) {
    const at::Tensor alone = ResizeOnDevice({AsTensor(*m)}, 56);
    EXPECT_TRUE(torch::equal(batch[i], alone[0])) << "image " << i;
    ++i;
  }
  EXPECT_FALSE(torch::equal(batch[0], batch[2]));
}

TEST(ResizeWeightCacheTest, WeightsAreMadeOnceAndGiveTheSamePixels) {
  ResizeWeightCache cache;
  const cv::Mat a = RandomRgb(320, 240, 1), b = RandomRgb(100, 60, 2);
  const std::vector<at::Tensor> batch = {AsTensor(a), AsTensor(b)};
  const at::Tensor fresh = ResizeOnDevice(batch, 56);
  const at::Tensor cached = ResizeOnDevice(batch, 56, &cache);
  EXPECT_TRUE(torch::equal(fresh, cached));
  EXPECT_EQ(cache.size(), 4u);  // rows and columns of two sizes
  const at::Tensor w = cache.Get(240, 56, data::ChooseResizeKernel(320, 240, 56), torch::kCPU);
  EXPECT_TRUE(torch::equal(ResizeOnDevice(batch, 56, &cache), fresh));  // a second batch reuses them
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_EQ(cache.Get(240, 56, data::ChooseResizeKernel(320, 240, 56), torch::kCPU).data_ptr(), w.data_ptr());
  // Requests with ever new sizes cannot grow it without bound.
  for (int src = 1; src <= 200; ++src) cache.Get(src, 56, data::ResizeKernel::kLinear, torch::kCPU);
  EXPECT_LE(cache.size(), ResizeWeightCache::kMaxEntries);
  EXPECT_GT(cache.size(), 0u);
}

TEST(CpuJpegDecoderTest, DecodesAsTheServerDoesAndRefusesWhatIsNotAJpeg) {
  const cv::Mat rgb = RandomRgb(64, 48, 7);
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uint8_t> buf;
  ASSERT_TRUE(cv::imencode(".jpg", bgr, buf));
  const std::string jpeg(buf.begin(), buf.end());
  const std::string garbage = std::string("\xFF\xD8", 2) + "garbage after the start-of-image marker";
  const std::string png = [] {
    std::vector<uint8_t> p;
    cv::imencode(".png", cv::Mat(4, 4, CV_8UC3, cv::Scalar(1, 2, 3)), p);
    return std::string(p.begin(), p.end());
  }();
  std::unique_ptr<JpegDecoder> decoder = MakeCpuJpegDecoder();
  EXPECT_STREQ(decoder->name(), "cpu");
  std::vector<absl::StatusOr<at::Tensor>> out = decoder->Decode({&jpeg, &garbage, &png}, torch::kCPU);
  ASSERT_EQ(out.size(), 3u);
  ASSERT_TRUE(out[0].ok()) << out[0].status();
  cv::Mat reference;
  cv::cvtColor(cv::imdecode(buf, cv::IMREAD_COLOR), reference, cv::COLOR_BGR2RGB);
  EXPECT_TRUE(torch::equal(*out[0], AsTensor(reference)));
  for (int k : {1, 2}) {
    EXPECT_EQ(out[k].status().code(), absl::StatusCode::kInvalidArgument) << k;
    EXPECT_THAT(out[k].status().message(), HasSubstr("not a decodable JPEG")) << k;
  }
}

TEST(NvjpegDecoderTest, ACpuBuildSaysItHasNoNvjpeg) {
  if (NvjpegBuilt()) GTEST_SKIP() << "this build has nvJPEG";
  absl::StatusOr<std::unique_ptr<JpegDecoder>> d = MakeNvjpegDecoder(torch::kCPU);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(d.status().message(), HasSubstr("nvJPEG"));
}

}  // namespace
}  // namespace mivla::server
