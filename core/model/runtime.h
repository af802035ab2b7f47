// File: runtime.h
// Run-time choice of device (CPU / CUDA) and precision (fp32, bf16 autocast on CUDA). The same binary runs
// on either; CUDA is used only when LibTorch was built with it and a device is present.
#ifndef MIVLA_CORE_MODEL_RUNTIME_H_
#define MIVLA_CORE_MODEL_RUNTIME_H_

#include <string>

#include <c10/core/Device.h>

#include "absl/status/statusor.h"

namespace mivla::model {

enum class Precision { kFp32, kBf16Autocast };

struct RuntimeOptions {
  c10::Device device = c10::Device(c10::kCPU);
  Precision precision = Precision::kFp32;
};

/// device: "cpu", "cuda", "cuda:N" or "auto" (CUDA when available); precision: "fp32" or "bf16".
/// bf16 needs a CUDA device: it is an error on the CPU.
absl::StatusOr<RuntimeOptions> ParseRuntimeOptions(const std::string& device, const std::string& precision);

std::string DescribeDevice(const RuntimeOptions& options);

/// While alive, enables bf16 autocast on CUDA when `options` asks for it; otherwise does nothing.
/// Autocast state is thread-local: create the guard on the thread that runs the model.
class AutocastGuard {
 public:
  explicit AutocastGuard(const RuntimeOptions& options);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
};

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_RUNTIME_H_
