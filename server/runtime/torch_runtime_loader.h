// File: torch_runtime_loader.h
// The LibTorch RuntimeLoader: a checkpoint file (core/checkpoint) or a random-init configuration
// ("tiny", "base") becomes a TorchPolicyRuntime on the chosen device. This header is torch-free, so the
// mivla-server binary, the benchmarks and integration tests can pick the real runtime without
// compiling LibTorch headers.
//
//   RuntimeFlags f; f.device = "cpu"; f.tokenizer_file = "core/tokenizer/data/mivla_tiny_spm.model";
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
#include "server/runtime_api/runtime_flags.h"
#include "server/runtime_api/runtime_loader.h"

namespace mivla::server {

/// INVALID_ARGUMENT for a bad device, precision or BLAS thread count, or --cuda-graphs off CUDA (naming
/// the flag); FAILED_PRECONDITION for --cuda-graphs in a build without CUDA graphs; NOT_FOUND
/// ("--tokenizer: ...") when the tokenizer file cannot be read. Sets the process's BLAS threads
/// (flags.blas_threads) and logs the count in force.
absl::StatusOr<std::shared_ptr<const RuntimeLoader>> MakeTorchRuntimeLoader(const RuntimeFlags& flags);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_TORCH_RUNTIME_LOADER_H_
