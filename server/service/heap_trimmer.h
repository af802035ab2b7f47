// File: heap_trimmer.h
// HeapTrimmer: a thread that, every `period`, gives the allocator's free pages back to the kernel when they
// exceed `keep_bytes` (core/util/malloc_tuning.h, ReleaseFreeHeapAbove). Under tcmalloc the page heap keeps what a
// burst of large requests freed (a hostile client's 15 MB strings left 130 MiB there in the one-minute soak, and
// resident memory grew 5-9 % over the hostile phase; glibc: 2 %, one run); below `keep_bytes` it keeps the
// pages the next batches' activations reuse without page faults. Under glibc the release does nothing (its fixed mmap
// threshold already unmaps large blocks).
//
//   HeapTrimmer::Options o;  // every second, above 64 MiB
//   o.on_release = [m](int64_t bytes) { m->RecordHeapReleased(bytes); };
//   ASSIGN_OR_RETURN(std::unique_ptr<HeapTrimmer> trimmer, HeapTrimmer::Create(std::move(o)));
//
// Thread-safety: Create and the destructor from one thread; `release` and `on_release` run on the
// trimmer's thread.
#ifndef MIVLA_SERVER_SERVICE_HEAP_TRIMMER_H_
#define MIVLA_SERVER_SERVICE_HEAP_TRIMMER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mivla::server {

class HeapTrimmer {
 public:
  struct Options {
    absl::Duration period = absl::Seconds(1);  // > 0
    int64_t keep_bytes = int64_t{64} << 20;    // >= 0
    /// Gives back what exceeds `keep` and returns the bytes released (tests pass a fake);
    /// null: ReleaseFreeHeapAbove.
    std::function<int64_t(int64_t keep)> release;
    /// Called with the bytes of every release that gave something back (metrics); optional.
    std::function<void(int64_t bytes)> on_release;
  };

  /// INVALID_ARGUMENT naming the field for a period <= 0 or a negative keep_bytes.
  static absl::StatusOr<std::unique_ptr<HeapTrimmer>> Create(Options options);
  ~HeapTrimmer();  // stops and joins the thread

 private:
  explicit HeapTrimmer(Options o) : options_(std::move(o)) {}
  void Loop();

  const Options options_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_HEAP_TRIMMER_H_
