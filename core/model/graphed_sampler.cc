#include "core/model/graphed_sampler.h"

#include <algorithm>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/model/flow_matching.h"

#if MIVLA_WITH_CUDA
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace mivla::model {
namespace {

// Every tensor's per-row shape and dtype (the bucket's tensors are rebuilt when they change).
std::vector<int64_t> Key(const ConditionTokens& tokens, const torch::Tensor& noise) {
  std::vector<int64_t> key;
  for (const torch::Tensor* t :
       {&tokens.vision, &tokens.vision_mask, &tokens.text, &tokens.text_mask, &tokens.prefix, &noise}) {
    key.push_back(t->dim());
    for (int64_t d = 1; d < t->dim(); ++d) key.push_back(t->size(d));
    key.push_back(static_cast<int64_t>(t->scalar_type()));
  }
  return key;
}

// dst[0, n) = src[begin, begin + n); dst's spare rows repeat src[begin].
void Fill(torch::Tensor& dst, const torch::Tensor& src, int64_t begin, int64_t n) {
  dst.narrow(0, 0, n).copy_(src.narrow(0, begin, n));
  if (dst.size(0) > n) dst.narrow(0, n, dst.size(0) - n).copy_(src.narrow(0, begin, 1));
}

torch::Tensor Empty(const torch::Tensor& like, int64_t rows, c10::Device device) {
  std::vector<int64_t> shape = like.sizes().vec();
  shape[0] = rows;
  return torch::empty(shape, like.options().device(device));
}

}  // namespace

struct GraphedSampler::Bucket {
  explicit Bucket(int r) : rows(r) {}
  const int rows;
  absl::Mutex mu;
  std::vector<int64_t> key ABSL_GUARDED_BY(mu);
  ConditionTokens in ABSL_GUARDED_BY(mu);  // [rows, ...] on the device
  torch::Tensor noise ABSL_GUARDED_BY(mu);
  torch::Tensor out ABSL_GUARDED_BY(mu);  // the graph's output tensor (kCudaGraph)
  int64_t builds ABSL_GUARDED_BY(mu) = 0;
#if MIVLA_WITH_CUDA
  std::unique_ptr<at::cuda::CUDAGraph> graph ABSL_GUARDED_BY(mu);
#endif
};

bool GraphedSampler::CudaGraphsBuilt() {
#if MIVLA_WITH_CUDA
  return true;
#else
  return false;
#endif
}

absl::StatusOr<std::unique_ptr<GraphedSampler>> GraphedSampler::Create(MivlaModel model, c10::Device device, Mode mode,
                                                                       int max_batch) {
  if (max_batch < 1) return absl::InvalidArgumentError(absl::StrCat("max_batch: ", max_batch, " is not positive"));
  if (mode == Mode::kCudaGraph) {
    if (!CudaGraphsBuilt()) {
      return absl::FailedPreconditionError(
          "CUDA graphs: this build has none (build against a CUDA LibTorch: see the README's GPU section)");
    }
    if (!device.is_cuda()) {
      return absl::FailedPreconditionError(absl::StrCat("CUDA graphs need a CUDA device, not '", device.str(), "'"));
    }
  }
  return std::unique_ptr<GraphedSampler>(new GraphedSampler(std::move(model), device, mode, max_batch));
}

GraphedSampler::GraphedSampler(MivlaModel model, c10::Device device, Mode mode, int max_batch)
    // "cuda" without an index is device 0 (where MivlaModel::to put the weights); the CUDA guards
    // and streams below want an index.
    : model_(std::move(model)),
      device_(device.is_cuda() && !device.has_index() ? c10::Device(c10::kCUDA, 0) : device),
      mode_(mode),
      steps_(model_->config().decoder.sampling_steps) {
  for (int r = 1; r < max_batch; r *= 2) sizes_.push_back(r);
  sizes_.push_back(max_batch);
  for (int r : sizes_) buckets_.push_back(std::make_unique<Bucket>(r));
}

GraphedSampler::~GraphedSampler() = default;

int64_t GraphedSampler::builds() const {
  int64_t total = 0;
  for (const auto& b : buckets_) {
    absl::MutexLock lock(&b->mu);
    total += b->builds;
  }
  return total;
}

torch::Tensor GraphedSampler::Sample(const ConditionTokens& tokens, const torch::Tensor& noise) {
  const int64_t n = noise.size(0);
  const int64_t max = sizes_.back();
  if (n <= max) return SampleInBucket(tokens, noise, 0, n);
  std::vector<torch::Tensor> parts;
  for (int64_t begin = 0; begin < n; begin += max) {
    parts.push_back(SampleInBucket(tokens, noise, begin, std::min(max, n - begin)));
  }
  return torch::cat(parts, 0);
}

void GraphedSampler::Warm(const ConditionTokens& tokens, const torch::Tensor& noise, int max_rows) {
  // Every bucket a batch of at most max_rows rows can land in.
  for (int r : sizes_) {
    auto rows = [&](const torch::Tensor& x) {
      std::vector<int64_t> shape = x.sizes().vec();
      shape[0] = r;
      return x.narrow(0, 0, 1).expand(shape);
    };
    SampleInBucket(
        {rows(tokens.vision), rows(tokens.vision_mask), rows(tokens.text), rows(tokens.text_mask), rows(tokens.prefix)},
        rows(noise), 0, r);
    if (r >= max_rows) break;
  }
}

torch::Tensor GraphedSampler::SampleInBucket(const ConditionTokens& tokens, const torch::Tensor& noise, int64_t begin,
                                             int64_t n) {
  Bucket& b = **std::find_if(buckets_.begin(), buckets_.end(), [&](const auto& x) { return x->rows >= n; });
  absl::MutexLock lock(&b.mu);
  std::vector<int64_t> key = Key(tokens, noise);
  if (key != b.key) {
    b.in = {Empty(tokens.vision, b.rows, device_), Empty(tokens.vision_mask, b.rows, device_),
            Empty(tokens.text, b.rows, device_), Empty(tokens.text_mask, b.rows, device_),
            Empty(tokens.prefix, b.rows, device_)};
    b.noise = Empty(noise, b.rows, device_);
    b.out = torch::Tensor();
#if MIVLA_WITH_CUDA
    b.graph.reset();
#endif
    b.key = std::move(key);
    if (mode_ == Mode::kEager) ++b.builds;
  }
  Fill(b.in.vision, tokens.vision, begin, n);
  Fill(b.in.vision_mask, tokens.vision_mask, begin, n);
  Fill(b.in.text, tokens.text, begin, n);
  Fill(b.in.text_mask, tokens.text_mask, begin, n);
  Fill(b.in.prefix, tokens.prefix, begin, n);
  Fill(b.noise, noise, begin, n);
  MivlaModelImpl& m = *model_;
  auto decode = [&] { return EulerSample(m, m.PrepareDecoding(b.in), b.noise, steps_); };
  if (mode_ == Mode::kEager) return decode().narrow(0, 0, n);

#if MIVLA_WITH_CUDA
  c10::cuda::CUDAGuard device_guard(device_);
  if (b.graph == nullptr) {
    // Warm-up and capture on a side stream that first waits for the copies above; the current stream
    // then waits for the side stream before replaying.
    c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(device_.index());
    c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device_.index());
    at::cuda::CUDAEvent copied;
    copied.record(current);
    copied.block(side);
    const bool cache = at::autocast::is_autocast_cache_enabled();
    at::autocast::set_autocast_cache_enabled(false);
    try {
      c10::cuda::CUDAStreamGuard stream_guard(side);
      for (int i = 0; i < 3; ++i) decode();
      side.synchronize();
      auto graph = std::make_unique<at::cuda::CUDAGraph>();
      graph->capture_begin();
      b.out = decode();
      graph->capture_end();
      b.graph = std::move(graph);
    } catch (...) {
      at::autocast::set_autocast_cache_enabled(cache);
      b.out = torch::Tensor();
      throw;
    }
    at::autocast::set_autocast_cache_enabled(cache);
    at::cuda::CUDAEvent captured;
    captured.record(side);
    captured.block(current);
    ++b.builds;
  }
  b.graph->replay();
  // The output tensor is overwritten by the next replay: the caller gets its own copy.
  return b.out.narrow(0, 0, n).clone();
#else
  throw std::logic_error("GraphedSampler: kCudaGraph in a build without CUDA graphs");  // Create refuses it
#endif
}

}  // namespace mivla::model
