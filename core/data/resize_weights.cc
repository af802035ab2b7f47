#include "core/data/resize_weights.h"

#include <algorithm>
#include <cmath>

namespace mivla::data {
namespace {

// Two taps (sx, sx + 1) with weights 1 - fx and fx; a tap left of the image or at its right border
// puts all of the weight on the border pixel (cv::resize's linear table).
void AddLinearRow(int src, int d, int sx, float fx, std::vector<float>* w) {
  if (sx < 0) sx = 0, fx = 0.0f;
  if (sx >= src - 1) sx = src - 1, fx = 0.0f;
  float* row = w->data() + static_cast<size_t>(d) * src;
  row[sx] += 1.0f - fx;
  if (fx != 0.0f) row[sx + 1] += fx;
}

void LinearWeights(int src, int dst, bool area_upscale, std::vector<float>* w) {
  const double scale = static_cast<double>(src) / dst;  // source pixels per output pixel
  const double inv_scale = static_cast<double>(dst) / src;
  for (int d = 0; d < dst; ++d) {
    int sx;
    float fx;
    if (area_upscale) {
      sx = static_cast<int>(std::floor(d * scale));
      fx = static_cast<float>((d + 1) - (sx + 1) * inv_scale);
      fx = fx <= 0 ? 0.0f : fx - std::floor(fx);
    } else {
      const float f = static_cast<float>((d + 0.5) * scale - 0.5);
      sx = static_cast<int>(std::floor(f));
      fx = f - static_cast<float>(sx);
    }
    AddLinearRow(src, d, sx, fx, w);
  }
}

// Each output pixel covers [d * scale, (d + 1) * scale) of the source; partly covered pixels count by
// their overlap (cells within 1e-3 of a pixel edge are taken as whole).
void AreaWeights(int src, int dst, std::vector<float>* w) {
  const double scale = static_cast<double>(src) / dst;
  for (int d = 0; d < dst; ++d) {
    float* row = w->data() + static_cast<size_t>(d) * src;
    const double f1 = d * scale;
    const double f2 = f1 + scale;
    const double cell = std::min(scale, src - f1);
    int s2 = std::min(static_cast<int>(std::floor(f2)), src - 1);
    int s1 = std::min(static_cast<int>(std::ceil(f1)), s2);
    if (s1 - f1 > 1e-3) row[s1 - 1] += static_cast<float>((s1 - f1) / cell);
    for (int s = s1; s < s2; ++s) row[s] += static_cast<float>(1.0 / cell);
    if (f2 - s2 > 1e-3) row[s2] += static_cast<float>(std::min(std::min(f2 - s2, 1.0), cell) / cell);
  }
}

}  // namespace

ResizeKernel ChooseResizeKernel(int src_width, int src_height, int side) {
  if (src_width <= side && src_height <= side) return ResizeKernel::kLinear;
  return src_width >= side && src_height >= side ? ResizeKernel::kArea : ResizeKernel::kAreaUpscale;
}

std::vector<float> ResizeWeights(int src, int dst, ResizeKernel kernel) {
  std::vector<float> w(static_cast<size_t>(src) * dst, 0.0f);
  if (kernel == ResizeKernel::kArea) {
    AreaWeights(src, dst, &w);
  } else {
    LinearWeights(src, dst, kernel == ResizeKernel::kAreaUpscale, &w);
  }
  return w;
}

}  // namespace mivla::data
