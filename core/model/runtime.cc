#include "core/model/runtime.h"

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "absl/strings/str_cat.h"

namespace mivla::model {

absl::StatusOr<RuntimeOptions> ParseRuntimeOptions(const std::string& device, const std::string& precision) {
  RuntimeOptions out;
  if (device == "auto") {
    out.device = torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  } else if (device == "cpu") {
    out.device = c10::Device(c10::kCPU);
  } else if (device.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError(
          absl::StrCat("device '", device, "' requested but this LibTorch has no usable CUDA device"));
    }
    try {
      out.device = c10::Device(device);
    } catch (const c10::Error& e) {
      return absl::InvalidArgumentError(absl::StrCat("bad device '", device, "'"));
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown device '", device, "' (cpu, cuda, cuda:N, auto)"));
  }
  if (precision == "fp32") {
    out.precision = Precision::kFp32;
  } else if (precision == "bf16") {
    if (!out.device.is_cuda()) {
      return absl::InvalidArgumentError("precision bf16 (autocast) needs a CUDA device");
    }
    out.precision = Precision::kBf16Autocast;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown precision '", precision, "' (fp32, bf16)"));
  }
  return out;
}

std::string DescribeDevice(const RuntimeOptions& options) {
  return absl::StrCat(options.device.str(), options.precision == Precision::kBf16Autocast ? "/bf16" : "/fp32");
}

AutocastGuard::AutocastGuard(const RuntimeOptions& options) {
  if (options.precision != Precision::kBf16Autocast || !options.device.is_cuda()) return;
  active_ = true;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
  at::autocast::set_enabled(true);
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
  at::autocast::set_enabled(false);
#endif
  at::autocast::clear_cache();
}

}  // namespace mivla::model
