// NvjpegDecoder (device_images.h): compiled only in CUDA builds that found nvJPEG (MIVLA_WITH_NVJPEG,
// server/runtime/CMakeLists.txt). The batch goes to nvjpegDecodeBatched on the current CUDA stream, into
// uint8 tensors allocated by LibTorch's caching allocator, so the resize that follows on the same stream
// needs no synchronisation. If the batched call fails, each image is tried alone with nvjpegDecode; what
// nvJPEG cannot parse or decode goes to the CPU decoder, which alone refuses bytes as not a JPEG.
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <nvjpeg.h>
#include <torch/torch.h>

#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/runtime/device_images.h"

namespace mivla::server {
namespace {

class NvjpegDecoder : public JpegDecoder {
 public:
  NvjpegDecoder(c10::DeviceIndex index, nvjpegHandle_t handle, nvjpegJpegState_t state)
      : index_(index), handle_(handle), state_(state), cpu_(MakeCpuJpegDecoder()) {}
  ~NvjpegDecoder() override {
    nvjpegJpegStateDestroy(state_);
    nvjpegDestroy(handle_);
  }

  std::vector<absl::StatusOr<at::Tensor>> Decode(absl::Span<const std::string* const> jpegs,
                                                 c10::Device) const override {
    std::vector<absl::StatusOr<at::Tensor>> out(jpegs.size(), absl::InternalError("not decoded"));
    c10::cuda::CUDAGuard guard(index_);
    const auto opts = torch::TensorOptions().dtype(torch::kUInt8).device(c10::Device(c10::kCUDA, index_));
    std::vector<size_t> on_gpu, on_cpu;
    std::vector<const unsigned char*> data;
    std::vector<size_t> lengths;
    std::vector<nvjpegImage_t> dst;
    for (size_t i = 0; i < jpegs.size(); ++i) {
      const auto* bytes = reinterpret_cast<const unsigned char*>(jpegs[i]->data());
      int components = 0;
      nvjpegChromaSubsampling_t subsampling;
      int widths[NVJPEG_MAX_COMPONENT] = {0}, heights[NVJPEG_MAX_COMPONENT] = {0};
      if (nvjpegGetImageInfo(handle_, bytes, jpegs[i]->size(), &components, &subsampling, widths, heights) !=
              NVJPEG_STATUS_SUCCESS ||
          widths[0] <= 0 || heights[0] <= 0) {
        on_cpu.push_back(i);
        continue;
      }
      at::Tensor image = torch::empty({heights[0], widths[0], 3}, opts);
      nvjpegImage_t d{};
      d.channel[0] = image.data_ptr<uint8_t>();
      d.pitch[0] = static_cast<size_t>(widths[0]) * 3;
      out[i] = std::move(image);
      on_gpu.push_back(i);
      data.push_back(bytes);
      lengths.push_back(jpegs[i]->size());
      dst.push_back(d);
    }
    if (!on_gpu.empty()) {
      absl::MutexLock lock(&mu_);
      cudaStream_t stream = c10::cuda::getCurrentCUDAStream(index_).stream();
      const int n = static_cast<int>(on_gpu.size());
      const bool batched =
          nvjpegDecodeBatchedInitialize(handle_, state_, n, 1, NVJPEG_OUTPUT_RGBI) == NVJPEG_STATUS_SUCCESS &&
          nvjpegDecodeBatched(handle_, state_, data.data(), lengths.data(), dst.data(), stream) ==
              NVJPEG_STATUS_SUCCESS;
      if (!batched) {
        for (int k = 0; k < n; ++k) {
          if (nvjpegDecode(handle_, state_, data[k], lengths[k], NVJPEG_OUTPUT_RGBI, &dst[k], stream) !=
              NVJPEG_STATUS_SUCCESS) {
            on_cpu.push_back(on_gpu[k]);
          }
        }
      }
    }
    if (!on_cpu.empty()) {
      std::vector<const std::string*> rest;
      for (size_t i : on_cpu) rest.push_back(jpegs[i]);
      std::vector<absl::StatusOr<at::Tensor>> decoded = cpu_->Decode(rest, c10::Device(c10::kCUDA, index_));
      for (size_t k = 0; k < on_cpu.size(); ++k) out[on_cpu[k]] = std::move(decoded[k]);
    }
    return out;
  }
  const char* name() const override { return "nvjpeg"; }

 private:
  const c10::DeviceIndex index_;
  const nvjpegHandle_t handle_;
  mutable absl::Mutex mu_;
  nvjpegJpegState_t state_ ABSL_GUARDED_BY(mu_);  // one decode at a time
  std::unique_ptr<JpegDecoder> cpu_;
};

}  // namespace

bool NvjpegBuilt() { return true; }

absl::StatusOr<std::unique_ptr<JpegDecoder>> MakeNvjpegDecoder(c10::Device device) {
  if (!device.is_cuda()) {
    return absl::InvalidArgumentError(absl::StrCat("nvJPEG needs a CUDA device, not '", device.str(), "'"));
  }
  const c10::DeviceIndex index = device.has_index() ? device.index() : 0;
  c10::cuda::CUDAGuard guard(index);
  nvjpegHandle_t handle = nullptr;
  if (nvjpegStatus_t s = nvjpegCreateSimple(&handle); s != NVJPEG_STATUS_SUCCESS) {
    return absl::InternalError(absl::StrCat("nvjpegCreateSimple failed (status ", static_cast<int>(s), ")"));
  }
  nvjpegJpegState_t state = nullptr;
  if (nvjpegStatus_t s = nvjpegJpegStateCreate(handle, &state); s != NVJPEG_STATUS_SUCCESS) {
    nvjpegDestroy(handle);
    return absl::InternalError(absl::StrCat("nvjpegJpegStateCreate failed (status ", static_cast<int>(s), ")"));
  }
  return std::unique_ptr<JpegDecoder>(new NvjpegDecoder(index, handle, state));
}

}  // namespace mivla::server
