// File: heap_trimmer.cc
#include "server/service/heap_trimmer.h"

#include <utility>

#include "absl/status/status.h"
#include "core/util/malloc_tuning.h"

namespace mivla::server {

absl::StatusOr<std::unique_ptr<HeapTrimmer>> HeapTrimmer::Create(Options options) {
  if (options.period <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("heap trimmer: period must be > 0");
  }
  if (options.keep_bytes < 0) return absl::InvalidArgumentError("heap trimmer: keep_bytes must be >= 0");
  if (!options.release) options.release = ReleaseFreeHeapAbove;
  std::unique_ptr<HeapTrimmer> t(new HeapTrimmer(std::move(options)));
  t->thread_ = std::thread([p = t.get()] { p->Loop(); });
  return t;
}

HeapTrimmer::~HeapTrimmer() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void HeapTrimmer::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.period);
      if (stop_) return;
    }
    const int64_t released = options_.release(options_.keep_bytes);
    if (released > 0 && options_.on_release) options_.on_release(released);
  }
}

}  // namespace mivla::server
