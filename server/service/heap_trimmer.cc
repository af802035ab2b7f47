// File: heap_trimmer.cc
#include "server/service/heap_trimmer.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "core/util/malloc_tuning.h"
#include "core/util/thread_name.h"

namespace mivla::server {

absl::StatusOr<std::unique_ptr<HeapTrimmer>> HeapTrimmer::Create(Options options) {
  if (options.period <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("heap trimmer: period must be > 0");
  }
  if (options.keep_bytes < 0) return absl::InvalidArgumentError("heap trimmer: keep_bytes must be >= 0");
  if (options.window < options.period) return absl::InvalidArgumentError("heap trimmer: window must be >= period");
  if (!options.free_bytes) options.free_bytes = HeapFreeBytes;
  if (!options.release) options.release = ReleaseFreeHeapBytes;
  std::unique_ptr<HeapTrimmer> t(new HeapTrimmer(std::move(options)));
  t->thread_ = StartNamedThread("heap-trimmer", [p = t.get()] { p->Loop(); });
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
  // Windows are counted in readings, not read off a clock that may be stepped.
  const int64_t readings_per_window = std::max<int64_t>(1, options_.window / options_.period);
  int64_t readings = 0;
  int64_t least_free = -1;  // the window's smallest known reading; -1: none yet
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.period);
      if (stop_) return;
    }
    const int64_t free_now = options_.free_bytes();
    if (free_now >= 0) least_free = least_free < 0 ? free_now : std::min(least_free, free_now);
    if (++readings < readings_per_window) continue;
    if (least_free > options_.keep_bytes) {
      const int64_t released = options_.release(least_free - options_.keep_bytes);
      if (released > 0 && options_.on_release) options_.on_release(released);
    }
    least_free = -1;
    readings = 0;
  }
}

}  // namespace mivla::server
