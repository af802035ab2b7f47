// File: graphed_sampler.h
// GraphedSampler: the plain decode (PrepareDecoding, then the K-step Euler sampler) over fixed-shape batch
// buckets, for the GPU path (issue 12). Per bucket (1, 2, 4, 8, ... rows, and max_batch itself) it owns
// device tensors for the condition tokens, the noise and the sampled chunks. Sample() copies a batch of
// n rows into the smallest bucket that holds them (the spare rows repeat row 0, so every row attends to
// real tokens), runs the decode on the bucket and returns the first n rows; more than max_batch rows are
// sampled max_batch at a time.
//   kCudaGraph (CUDA device, built against a CUDA LibTorch, i.e. MIVLA_WITH_CUDA): a bucket's first
//     Sample() runs the decode three times on a side stream (lazy initialisation: cuBLAS handles and
//     workspaces) and then captures it into a CUDA graph; later calls copy their rows into the bucket's
//     tensors and replay the graph, one launch for every kernel of the K steps.
//   kEager: the same buckets, copies and padding, the decode run op by op (any device; the baseline the
//     graph is measured against, and what the CPU tests check the bucket logic with).
// Rows are independent (a row's chunk depends only on its own tokens and noise), so padding changes no
// row beyond float rounding. Under bf16 autocast, create and call it inside the caller's AutocastGuard;
// capture turns autocast's weight cache off (a graph must not replay a cast that later calls skip).
//
//   auto s = GraphedSampler::Create(model, device, GraphedSampler::Mode::kCudaGraph, 32);
//   torch::Tensor chunks = (*s)->Sample(tokens, noise);   // [n, H, D] on the device
//
// Thread-safety: Sample() is thread-safe. Each bucket has its own lock (its tensors and graph serve one
// batch at a time), so batches of different sizes run concurrently. The model must not change while
// the sampler lives (a captured graph holds its weights' addresses).
#ifndef MIVLA_CORE_MODEL_GRAPHED_SAMPLER_H_
#define MIVLA_CORE_MODEL_GRAPHED_SAMPLER_H_

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/mivla_model.h"

namespace mivla::model {

class GraphedSampler {
 public:
  enum class Mode { kEager, kCudaGraph };

  /// INVALID_ARGUMENT when max_batch < 1; FAILED_PRECONDITION for kCudaGraph when this build has no
  /// CUDA graphs (CudaGraphsBuilt() is false) or `device` is not a CUDA device.
  static absl::StatusOr<std::unique_ptr<GraphedSampler>> Create(MivlaModel model, c10::Device device, Mode mode,
                                                                int max_batch);
  ~GraphedSampler();

  /// True when this binary was built against a CUDA LibTorch with the capture code (MIVLA_WITH_CUDA).
  static bool CudaGraphsBuilt();

  /// x_1 for `noise` [n, H, D] under `tokens` (n rows each, on any device): [n, H, D] on the sampler's
  /// device, the model's dtype. Call under torch::InferenceMode (or NoGradGuard). Throws what LibTorch
  /// throws (a shape that does not fit the model, a CUDA error).
  torch::Tensor Sample(const ConditionTokens& tokens, const torch::Tensor& noise);

  /// Captures (kCudaGraph) or allocates (kEager) every bucket up to `max_rows` with copies of `tokens`
  /// row 0 and `noise` row 0, so the first requests pay no capture. Same preconditions as Sample().
  void Warm(const ConditionTokens& tokens, const torch::Tensor& noise, int max_rows);

  Mode mode() const { return mode_; }
  /// The bucket sizes, ascending: powers of two below max_batch, then max_batch.
  const std::vector<int>& buckets() const { return sizes_; }
  /// Graphs captured so far (kCudaGraph), or bucket tensor sets allocated (kEager). Steady state: no growth.
  int64_t builds() const;

 private:
  struct Bucket;
  GraphedSampler(MivlaModel model, c10::Device device, Mode mode, int max_batch);
  torch::Tensor SampleInBucket(const ConditionTokens& tokens, const torch::Tensor& noise, int64_t begin, int64_t n);

  MivlaModel model_;
  const c10::Device device_;
  const Mode mode_;
  const int steps_;
  std::vector<int> sizes_;
  std::vector<std::unique_ptr<Bucket>> buckets_;  // one per sizes_ entry
};

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_GRAPHED_SAMPLER_H_
