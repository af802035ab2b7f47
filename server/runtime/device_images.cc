#include "server/runtime/device_images.h"

#include <torch/torch.h>

#include <cstring>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mivla::server {
namespace {

class CpuJpegDecoder : public JpegDecoder {
 public:
  std::vector<absl::StatusOr<at::Tensor>> Decode(absl::Span<const std::string* const> jpegs,
                                                 c10::Device device) const override {
    std::vector<absl::StatusOr<at::Tensor>> out;
    out.reserve(jpegs.size());
    for (const std::string* bytes : jpegs) out.push_back(DecodeOne(*bytes, device));
    return out;
  }
  const char* name() const override { return "cpu"; }

 private:
  static absl::StatusOr<at::Tensor> DecodeOne(const std::string& bytes, c10::Device device) {
    // OpenCV picks its codec by content: only bytes that start as a JPEG reach it.
    if (bytes.size() < 2 || static_cast<uint8_t>(bytes[0]) != 0xFF || static_cast<uint8_t>(bytes[1]) != 0xD8) {
      return absl::InvalidArgumentError("not a decodable JPEG (no start-of-image marker)");
    }
    cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    cv::Mat bgr;
    try {
      bgr = cv::imdecode(buf, cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("not a decodable JPEG (", e.what(), ")"));
    }
    if (bgr.empty()) return absl::InvalidArgumentError("not a decodable JPEG");
    at::Tensor rgb = torch::empty({bgr.rows, bgr.cols, 3}, torch::kUInt8);
    cv::Mat view(bgr.rows, bgr.cols, CV_8UC3, rgb.data_ptr<uint8_t>());
    cv::cvtColor(bgr, view, cv::COLOR_BGR2RGB);
    return device.is_cpu() ? rgb : rgb.to(device);
  }
};

// The dst x src weights as a float tensor on `device`.
at::Tensor WeightTensor(int src, int dst, data::ResizeKernel kernel, c10::Device device) {
  std::vector<float> w = data::ResizeWeights(src, dst, kernel);
  return torch::from_blob(w.data(), {dst, src}, torch::kFloat).clone().to(device);
}

}  // namespace

at::Tensor ResizeWeightCache::Get(int src, int dst, data::ResizeKernel kernel, c10::Device device) {
  const Key key{src, dst, static_cast<int>(kernel), static_cast<int>(device.type()), device.index()};
  {
    absl::MutexLock lock(&mu_);
    if (auto it = weights_.find(key); it != weights_.end()) return it->second;
  }
  at::Tensor w = WeightTensor(src, dst, kernel, device);  // made outside the lock
  absl::MutexLock lock(&mu_);
  if (weights_.size() >= kMaxEntries) weights_.clear();
  return weights_.emplace(key, w).first->second;  // a racing maker's equal tensor may win; either is right
}

size_t ResizeWeightCache::size() const {
  absl::MutexLock lock(&mu_);
  return weights_.size();
}

std::unique_ptr<JpegDecoder> MakeCpuJpegDecoder() { return std::make_unique<CpuJpegDecoder>(); }

#ifndef MIVLA_WITH_NVJPEG
bool NvjpegBuilt() { return false; }
absl::StatusOr<std::unique_ptr<JpegDecoder>> MakeNvjpegDecoder(c10::Device) {
  return absl::UnimplementedError("this build has no nvJPEG (it needs a CUDA LibTorch and the CUDA toolkit's nvJPEG)");
}
#endif

at::Tensor ResizeOnDevice(const std::vector<at::Tensor>& images, int side, ResizeWeightCache* cache) {
  const c10::Device device = images.front().device();
  at::Tensor out = torch::empty({static_cast<int64_t>(images.size()), 3, side, side},
                                torch::TensorOptions().dtype(torch::kFloat).device(device));
  // Images of one size share their weights and one pair of matrix products.
  std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> by_size;
  for (size_t i = 0; i < images.size(); ++i) by_size[{images[i].size(0), images[i].size(1)}].push_back(i);
  for (const auto& [hw, idx] : by_size) {
    const int h = static_cast<int>(hw.first), w = static_cast<int>(hw.second);
    std::vector<at::Tensor> group;
    for (int64_t i : idx) group.push_back(images[i]);
    at::Tensor x = torch::stack(group).permute({0, 3, 1, 2}).to(torch::kFloat);  // [G, 3, H, W]
    if (h != side || w != side) {
      const data::ResizeKernel kernel = data::ChooseResizeKernel(w, h, side);
      auto weights = [&](int src) {
        return cache != nullptr ? cache->Get(src, side, kernel, device) : WeightTensor(src, side, kernel, device);
      };
      x = torch::matmul(weights(h), x);                  // rows: [G, 3, side, W]
      x = torch::matmul(x, weights(w).transpose(0, 1));  // columns
      x = x.add_(0.5f).floor_().clamp_(0.0, 255.0);  // OpenCV's 8-bit paths round halves up
    }
    at::Tensor index = torch::tensor(idx, torch::TensorOptions().dtype(torch::kLong)).to(device);
    out.index_copy_(0, index, x.div_(255.0f));
  }
  return out;
}

}  // namespace mivla::server
