// File: runtime_loader.h
// RuntimeLoader: turns a model source (a checkpoint file, or a named configuration with random weights
// for tests and benchmarks) into a PolicyRuntime (after TF Serving's Loader). The model manager
// (server/model_manager/) owns version policy and hot reload and calls a loader for each version; it
// never sees how a version is built. The LibTorch loader lives in server/runtime/, a fake one in
// fake_policy_runtime.h.
//
//   std::shared_ptr<RuntimeLoader> loader = ...;             // chosen by the binary or the test
//   ASSIGN_OR_RETURN(std::unique_ptr<PolicyRuntime> r, loader->Load(RuntimeSource::Checkpoint(path)));
//   RETURN_IF_ERROR(r->Warm(16));
//
// Thread-safety: Load may be called from any thread (the model manager calls it from its poll thread).
#ifndef MIVLA_SERVER_RUNTIME_API_RUNTIME_LOADER_H_
#define MIVLA_SERVER_RUNTIME_API_RUNTIME_LOADER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/runtime_api/policy_runtime.h"

namespace mivla::server {

struct RuntimeSource {
  std::string checkpoint_path;            // a checkpoint file (empty with random_init)
  bool random_init = false;               // random weights of `config` (tests and benchmarks only)
  std::string config = "tiny";            // configuration name for random_init
  uint64_t seed = 1;                      // random_init weights seed

  static RuntimeSource Checkpoint(std::string path) {
    RuntimeSource s;
    s.checkpoint_path = std::move(path);
    return s;
  }
  static RuntimeSource RandomInit(std::string config, uint64_t seed) {
    RuntimeSource s;
    s.random_init = true;
    s.config = std::move(config);
    s.seed = seed;
    return s;
  }
};

class RuntimeLoader {
 public:
  virtual ~RuntimeLoader() = default;
  /// An error names the file (or configuration) and the reason; the caller keeps its serving version.
  /// Random-init versions are named "random-init-<config>-seed<seed>".
  virtual absl::StatusOr<std::unique_ptr<PolicyRuntime>> Load(const RuntimeSource& source) const = 0;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_API_RUNTIME_LOADER_H_
