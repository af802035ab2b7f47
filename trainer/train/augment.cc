#include "trainer/train/augment.h"

#include <algorithm>
#include <cmath>

#include "core/data/image_resize.h"

namespace mivla::trainer {
namespace {

constexpr float kGrey[3] = {0.299f, 0.587f, 0.114f};  // ITU-R BT.601 luma weights

int DrawShift(int max_shift, SampleRng* rng) {
  if (max_shift <= 0) return 0;
  return static_cast<int>(rng->Below(static_cast<uint64_t>(2 * max_shift + 1))) - max_shift;
}

}  // namespace

data::RgbImage ResizeSquare(const data::RgbImage& in, int side) {
  if (in.width == side && in.height == side) return in;
  data::RgbImage out;
  out.width = side;
  out.height = side;
  out.rgb.resize(static_cast<size_t>(side) * side * 3);
  data::ResizeSquareRgb8(in.rgb.data(), in.width, in.height, side, out.rgb.data());  // as the server does
  return out;
}

bool AugmentParams::identity() const {
  return shift_x == 0 && shift_y == 0 && brightness == 1.0 && contrast == 1.0 && saturation == 1.0;
}

AugmentParams DrawAugment(const AugmentOptions& options, int width, int height, SampleRng* rng) {
  AugmentParams p;
  if (!options.enabled) return p;
  const double frac = std::max(0.0, options.max_shift_frac);
  p.shift_x = DrawShift(static_cast<int>(std::lround(frac * width)), rng);
  p.shift_y = DrawShift(static_cast<int>(std::lround(frac * height)), rng);
  auto factor = [&](double spread) {
    spread = std::clamp(spread, 0.0, 1.0);
    return spread > 0 ? rng->Uniform(1.0 - spread, 1.0 + spread) : 1.0;
  };
  p.brightness = factor(options.brightness);
  p.contrast = factor(options.contrast);
  p.saturation = factor(options.saturation);
  return p;
}

void WriteAugmented(const data::RgbImage& image, const AugmentParams& p, float* chw) {
  const int w = image.width, h = image.height;
  const size_t plane = static_cast<size_t>(w) * h;
  float* r = chw;
  float* g = chw + plane;
  float* b = chw + 2 * plane;
  // Shift (edge replicate) and brightness.
  const float bright = static_cast<float>(p.brightness / 255.0);
  double grey_sum = 0;
  for (int y = 0; y < h; ++y) {
    const int sy = std::clamp(y - p.shift_y, 0, h - 1);
    for (int x = 0; x < w; ++x) {
      const int sx = std::clamp(x - p.shift_x, 0, w - 1);
      const uint8_t* px = image.at(sx, sy);
      const size_t o = static_cast<size_t>(y) * w + x;
      r[o] = std::min(1.0f, px[0] * bright);
      g[o] = std::min(1.0f, px[1] * bright);
      b[o] = std::min(1.0f, px[2] * bright);
      grey_sum += kGrey[0] * r[o] + kGrey[1] * g[o] + kGrey[2] * b[o];
    }
  }
  if (p.contrast == 1.0 && p.saturation == 1.0) return;
  const float mean = static_cast<float>(grey_sum / static_cast<double>(plane));
  const float c = static_cast<float>(p.contrast), s = static_cast<float>(p.saturation);
  for (size_t o = 0; o < plane; ++o) {
    float vr = (r[o] - mean) * c + mean, vg = (g[o] - mean) * c + mean, vb = (b[o] - mean) * c + mean;
    const float grey = kGrey[0] * vr + kGrey[1] * vg + kGrey[2] * vb;
    vr = grey + (vr - grey) * s;
    vg = grey + (vg - grey) * s;
    vb = grey + (vb - grey) * s;
    r[o] = std::clamp(vr, 0.0f, 1.0f);
    g[o] = std::clamp(vg, 0.0f, 1.0f);
    b[o] = std::clamp(vb, 0.0f, 1.0f);
  }
}

}  // namespace mivla::trainer
