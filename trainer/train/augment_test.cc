#include "trainer/train/augment.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace mivla::trainer {
namespace {

data::RgbImage Gradient(int w, int h) {
  data::RgbImage img = data::RgbImage::Solid(w, h, 0, 0, 0);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.at(x, y);
      p[0] = static_cast<uint8_t>(10 + 20 * x);
      p[1] = static_cast<uint8_t>(10 + 30 * y);
      p[2] = 100;
    }
  }
  return img;
}

std::vector<float> Write(const data::RgbImage& img, const AugmentParams& p) {
  std::vector<float> out(3 * img.width * img.height, -1.0f);
  WriteAugmented(img, p, out.data());
  return out;
}

TEST(AugmentTest, IdentityWritesPlanarRgbInUnitRange) {
  const data::RgbImage img = Gradient(4, 3);
  const std::vector<float> out = Write(img, AugmentParams{});
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 4; ++x) {
      for (int c = 0; c < 3; ++c) {
        EXPECT_FLOAT_EQ(out[(c * 3 + y) * 4 + x], img.at(x, y)[c] / 255.0f) << x << "," << y << "," << c;
      }
    }
  }
}

TEST(AugmentTest, ShiftMovesContentAndReplicatesEdges) {
  const data::RgbImage img = Gradient(4, 3);
  AugmentParams p;
  p.shift_x = 1;
  p.shift_y = -1;
  const std::vector<float> out = Write(img, p);
  auto red = [&](int x, int y) { return out[y * 4 + x] * 255.0f; };
  auto green = [&](int x, int y) { return out[12 + y * 4 + x] * 255.0f; };
  EXPECT_NEAR(red(2, 0), 10 + 20 * 1, 1e-3);   // output x=2 shows input x=1
  EXPECT_NEAR(red(0, 0), 10, 1e-3);            // left edge replicated
  EXPECT_NEAR(green(0, 0), 10 + 30 * 1, 1e-3); // output y=0 shows input y=1
  EXPECT_NEAR(green(0, 2), 10 + 30 * 2, 1e-3); // bottom edge replicated
}

TEST(AugmentTest, ColourJitterScalesAndDesaturates) {
  const data::RgbImage img = Gradient(4, 3);
  AugmentParams bright;
  bright.brightness = 1.5;
  const std::vector<float> b = Write(img, bright);
  EXPECT_NEAR(b[0], 10 * 1.5f / 255.0f, 1e-6);
  AugmentParams grey;
  grey.saturation = 0.0;
  const std::vector<float> g = Write(img, grey);
  for (int o = 0; o < 12; ++o) {
    EXPECT_NEAR(g[o], g[12 + o], 1e-5);
    EXPECT_NEAR(g[o], g[24 + o], 1e-5);
  }
  AugmentParams flat;
  flat.contrast = 0.0;  // every pixel becomes the mean grey
  const std::vector<float> f = Write(img, flat);
  for (int o = 1; o < 36; ++o) EXPECT_NEAR(f[o], f[0], 1e-5);
  for (float v : Write(img, AugmentParams{0, 0, 3.0, 3.0, 3.0})) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 1.0f);
  }
}

TEST(AugmentTest, DrawIsSeededAndWithinRange) {
  AugmentOptions o;
  o.max_shift_frac = 0.1;  // 56 px -> up to 6 px
  bool varied = false;
  AugmentParams first;
  for (int i = 0; i < 200; ++i) {
    SampleRng a(5, 0, i), b(5, 0, i);
    const AugmentParams p = DrawAugment(o, 56, 56, &a);
    const AugmentParams q = DrawAugment(o, 56, 56, &b);
    EXPECT_EQ(p.shift_x, q.shift_x);
    EXPECT_EQ(p.brightness, q.brightness);
    EXPECT_LE(std::abs(p.shift_x), 6);
    EXPECT_LE(std::abs(p.shift_y), 6);
    EXPECT_GE(p.brightness, 0.8);
    EXPECT_LE(p.brightness, 1.2);
    EXPECT_GE(p.saturation, 0.9);
    EXPECT_LE(p.saturation, 1.1);
    if (i == 0) first = p;
    if (p.shift_x != first.shift_x || p.contrast != first.contrast) varied = true;
  }
  EXPECT_TRUE(varied);
  o.enabled = false;
  SampleRng rng(1);
  EXPECT_TRUE(DrawAugment(o, 56, 56, &rng).identity());
}

TEST(AugmentTest, ResizeSquareSquashesKeepingColour) {
  const data::RgbImage solid = data::RgbImage::Solid(64, 48, 200, 100, 50);
  const data::RgbImage small = ResizeSquare(solid, 16);
  ASSERT_TRUE(small.valid());
  EXPECT_EQ(small.width, 16);
  EXPECT_EQ(small.height, 16);
  EXPECT_EQ(data::MaxAbsDiff(small, data::RgbImage::Solid(16, 16, 200, 100, 50)), 0);
  EXPECT_EQ(ResizeSquare(small, 16).rgb, small.rgb);
  EXPECT_EQ(ResizeSquare(small, 32).width, 32);
}

}  // namespace
}  // namespace mivla::trainer
