// File: torch_runtime_loader.h
// The LibTorch RuntimeLoader: a checkpoint file (core/checkpoint) or a random-init configuration
// ("tiny", "base") becomes a TorchPolicyRuntime on the chosen device. This header is torch-free, so the
// mivla-server binary, the benchmarks and integration tests can pick the real runtime without
// compiling LibTorch headers.
//
//   TorchRuntimeFlags f; f.device = "cpu"; f.tokenizer_file = "core/tokenizer/data/mivla_tiny_spm.model";
//   ASSIGN_OR_RETURN(std::shared_ptr<const RuntimeLoader> loader, MakeTorchRuntimeLoader(f));
//   server_options.runtime_loader = loader;
//
// Thread-safety: Load may be called from any thread.
#ifndef MIVLA_SERVER_RUNTIME_TORCH_RUNTIME_LOADER_H_
#define MIVLA_SERVER_RUNTIME_TORCH_RUNTIME_LOADER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/runtime_api/runtime_loader.h"

namespace mivla::server {

struct TorchRuntimeFlags {
  std::string device = "cpu";      // cpu | cuda | cuda:N | auto (--device)
  std::string precision = "fp32";  // fp32 | bf16, CUDA only (--precision)
  std::string tokenizer_file;      // used when a checkpoint carries none (--tokenizer); "" = none
  size_t instruction_cache_capacity = 1024;
  double rtc_max_guidance = 5.0;   // real-time chunking: cap of the guidance weight (--rtc-max-guidance)
  bool rtc_soft_replacement = true;  // real-time chunking: soft-masked replacement (--rtc-soft-replacement)
  int blas_threads = -1;  // process-wide, applied by MakeTorchRuntimeLoader (--blas-threads; core/model/blas_threads.h)
};

/// INVALID_ARGUMENT for a bad device, precision or BLAS thread count (naming the flag); NOT_FOUND
/// ("--tokenizer: ...") when the tokenizer file cannot be read. Sets the process's BLAS threads
/// (flags.blas_threads) and logs the count in force.
absl::StatusOr<std::shared_ptr<const RuntimeLoader>> MakeTorchRuntimeLoader(const TorchRuntimeFlags& flags);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_TORCH_RUNTIME_LOADER_H_
