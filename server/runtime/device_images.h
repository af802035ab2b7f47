// File: device_images.h
// Camera images that the LibTorch runtime decodes and resizes itself, for a whole encode batch on its
// device (issue 12's GPU path). With it on (RuntimeInfo::decodes_jpeg), the server's image pool passes
// JPEG bytes through untouched instead of decoding and resizing each image on a CPU.
// - JpegDecoder: JPEG bytes -> [H, W, 3] uint8 RGB tensors on a device.
//   NvjpegDecoder (CUDA builds that found nvJPEG, MIVLA_WITH_NVJPEG) decodes a batch with one
//   nvjpegDecodeBatched call on the current CUDA stream; an image nvJPEG refuses goes to the CPU
//   decoder, which alone decides that bytes are not a JPEG.
//   CpuJpegDecoder: OpenCV's decoder (the one the server's image pool uses), then a copy to the device.
//   It is what CPU machines and tests run.
// - ResizeOnDevice: decoded images of any sizes -> [N, 3, side, side] floats in [0, 1], resized by two
//   matrix products with OpenCV's weights (core/data/resize_weights.h), images of one size in one product, then
//   rounded to 8-bit levels as the server's path is.
// - ResizeWeightCache: those weights on the device, made and copied once per (source length, side,
//   kernel, device) and reused by every later batch, so that the encode path does no host work and no
//   host-to-device copy for them.
// Thread-safety: decoders and the cache may be called from several threads (nvJPEG's state and the
// cache's map are locked).
#ifndef MIVLA_SERVER_RUNTIME_DEVICE_IMAGES_H_
#define MIVLA_SERVER_RUNTIME_DEVICE_IMAGES_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "core/data/resize_weights.h"

namespace mivla::server {

class JpegDecoder {
 public:
  virtual ~JpegDecoder() = default;
  /// One [H, W, 3] uint8 RGB tensor on `device` per input, in order. INVALID_ARGUMENT "not a
  /// decodable JPEG..." (no field name: the caller prefixes it) for bytes that do not decode; the
  /// others still decode.
  virtual std::vector<absl::StatusOr<at::Tensor>> Decode(absl::Span<const std::string* const> jpegs,
                                                         c10::Device device) const = 0;
  /// "cpu" or "nvjpeg", for the runtime's device description.
  virtual const char* name() const = 0;
};

std::unique_ptr<JpegDecoder> MakeCpuJpegDecoder();

/// Whether this build has nvJPEG (a CUDA LibTorch and the CUDA toolkit's nvJPEG found at configure time).
bool NvjpegBuilt();
/// nvJPEG on CUDA `device`. UNIMPLEMENTED in a build without nvJPEG; INTERNAL when nvJPEG cannot start.
absl::StatusOr<std::unique_ptr<JpegDecoder>> MakeNvjpegDecoder(c10::Device device);

/// ResizeWeights(src, dst, kernel) as a [dst, src] float tensor on a device, kept once made. It holds
/// at most kMaxEntries tensors and starts over when full: cameras come in few sizes, and requests with
/// odd sizes cannot grow it without bound.
class ResizeWeightCache {
 public:
  static constexpr size_t kMaxEntries = 64;
  at::Tensor Get(int src, int dst, data::ResizeKernel kernel, c10::Device device);
  size_t size() const;

 private:
  using Key = std::tuple<int, int, int, int, int>;  // src, dst, kernel, device type, device index
  mutable absl::Mutex mu_;
  std::map<Key, at::Tensor> weights_ ABSL_GUARDED_BY(mu_);
};

/// `images` ([H, W, 3] uint8 on one device, any sizes) resized to side x side with the kernel
/// cv::resize would use for each (core/data/resize_weights.h), as [N, 3, side, side] floats in [0, 1] on that
/// device, rounded to multiples of 1/255. At least one image. The weights come from `cache` when one is
/// given, otherwise they are made for this call.
at::Tensor ResizeOnDevice(const std::vector<at::Tensor>& images, int side, ResizeWeightCache* cache = nullptr);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_DEVICE_IMAGES_H_
