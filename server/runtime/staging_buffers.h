// File: staging_buffers.h
// Preallocated batch tensors for the LibTorch runtime's encode and decode steps, so forming a batch copies
// rows into buffers that live as long as the model version instead of allocating per request. Shapes
// follow the model's config (rows x per-sample shape); the rows grow to the largest batch seen (the
// warm-up runs the largest one first). A pool hands one buffer set to each batch being processed; with
// one worker per stage (the default) the pool holds one set per stage.
//
// Thread-safety: StagingPool::Acquire/Release are thread-safe; a buffer set belongs to one batch at a time.
#ifndef MIVLA_SERVER_RUNTIME_STAGING_BUFFERS_H_
#define MIVLA_SERVER_RUNTIME_STAGING_BUFFERS_H_

#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/model/model_config.h"

namespace mivla::server {

struct EncodeStaging {
  at::Tensor images, view_mask, text_ids, text_mask, state, state_mask, embodiment;
};

struct DecodeStaging {
  at::Tensor vision, vision_mask, text, text_mask, prefix, noise;
};

struct StagingBuffers {
  /// (Re)allocates when `config`'s shapes differ from the last call or `rows` exceeds the rows held; a
  /// no-op otherwise.
  void Ensure(const model::ModelConfig& config, int image_size, int rows);
  EncodeStaging encode;
  DecodeStaging decode;
  int64_t allocations = 0;  // how many times the tensors were (re)allocated

 private:
  std::vector<int64_t> key_;  // per-sample shapes
  int rows_ = 0;
};

class StagingPool {
 public:
  std::unique_ptr<StagingBuffers> Acquire();
  void Release(std::unique_ptr<StagingBuffers> buffers);
  /// Total (re)allocations over all buffer sets (tests check steady state reuses them).
  int64_t allocations() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<StagingBuffers>> free_ ABSL_GUARDED_BY(mu_);
  int64_t released_allocations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_STAGING_BUFFERS_H_
