#include "core/data/image_resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/data/resize_weights.h"

namespace mivla::data {
namespace {

// One axis of an area resize: output d reads source taps first[d] .. first[d] + count[d] - 1 with the
// weights w[offset[d] ...].
struct Taps {
  std::vector<int> first, count, offset;
  std::vector<float> w;
};

Taps MakeTaps(int src, int dst) {
  const std::vector<float> dense = ResizeWeights(src, dst, ResizeKernel::kArea);
  Taps t;
  for (int d = 0; d < dst; ++d) {
    const float* row = dense.data() + static_cast<size_t>(d) * src;
    int a = 0, b = src - 1;
    while (a < b && row[a] == 0.0f) ++a;
    while (b > a && row[b] == 0.0f) --b;
    t.first.push_back(a);
    t.count.push_back(b - a + 1);
    t.offset.push_back(static_cast<int>(t.w.size()));
    t.w.insert(t.w.end(), row + a, row + b + 1);
  }
  return t;
}

// The taps of (src, dst): kept for the first kMaxCached pairs seen (image sizes come from clients, so the
// cache is bounded; later sizes get theirs made per call), made outside the lock.
constexpr size_t kMaxCached = 64;

std::shared_ptr<const Taps> CachedTaps(int src, int dst) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* cache ABSL_GUARDED_BY(mu) = new std::map<std::pair<int, int>, std::shared_ptr<const Taps>>();
  {
    absl::MutexLock lock(&mu);
    if (auto it = cache->find({src, dst}); it != cache->end()) return it->second;
  }
  auto made = std::make_shared<const Taps>(MakeTaps(src, dst));
  absl::MutexLock lock(&mu);
  if (cache->size() < kMaxCached) cache->emplace(std::make_pair(src, dst), made);
  return made;
}

uint8_t Level(float v) { return static_cast<uint8_t>(std::clamp(std::floor(v + 0.5f), 0.0f, 255.0f)); }

// Both sides shrink: the source rows under each output row are summed first (whole
// rows, which vectorise), then each output pixel sums its columns of that row.
void AreaShrink(const uint8_t* rgb, int width, int height, int side, uint8_t* out) {
  const std::shared_ptr<const Taps> x = CachedTaps(width, side), y = CachedTaps(height, side);
  const Taps& tx = *x;
  const Taps& ty = *y;
  const int row_len = width * 3;
  std::vector<float> acc(static_cast<size_t>(row_len));
  for (int dy = 0; dy < side; ++dy) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (int k = 0; k < ty.count[dy]; ++k) {
      const uint8_t* src = rgb + static_cast<size_t>(ty.first[dy] + k) * row_len;
      const float a = ty.w[ty.offset[dy] + k];
      for (int i = 0; i < row_len; ++i) acc[i] += a * static_cast<float>(src[i]);
    }
    uint8_t* o = out + static_cast<size_t>(dy) * side * 3;
    for (int dx = 0; dx < side; ++dx) {
      const float* wx = tx.w.data() + tx.offset[dx];
      const float* p = acc.data() + static_cast<size_t>(tx.first[dx]) * 3;
      float r = 0, g = 0, b = 0;
      for (int k = 0; k < tx.count[dx]; ++k) {
        r += wx[k] * p[3 * k];
        g += wx[k] * p[3 * k + 1];
        b += wx[k] * p[3 * k + 2];
      }
      o[3 * dx] = Level(r);
      o[3 * dx + 1] = Level(g);
      o[3 * dx + 2] = Level(b);
    }
  }
}

}  // namespace

void ResizeSquareRgb8(const uint8_t* rgb, int width, int height, int side, uint8_t* out) {
  if (width == side && height == side) {
    std::memcpy(out, rgb, static_cast<size_t>(side) * side * 3);
    return;
  }
  if (width > side && height > side) {
    AreaShrink(rgb, width, height, side, out);
    return;
  }
  const cv::Mat src(height, width, CV_8UC3, const_cast<uint8_t*>(rgb));
  cv::Mat dst(side, side, CV_8UC3, out);
  const bool shrink = width > side || height > side;
  cv::resize(src, dst, cv::Size(side, side), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
}

}  // namespace mivla::data
