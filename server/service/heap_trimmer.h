// File: heap_trimmer.h
// HeapTrimmer: a thread that gives back to the kernel the free heap pages no batch has needed for a while
// (core/util/malloc_tuning.h). Every `period` it reads the allocator's free page-heap bytes; at the end of
// each `window` it gives back what stayed free throughout (the window's minimum) beyond `keep_bytes`.
// Under tcmalloc the page heap keeps what a burst of large requests freed (a hostile client's 15 MB strings
// left 130 MiB there in the one-minute soak; resident memory grew 3.6-9.0 % over the hostile phase without
// a trimmer). Pages that every batch's activations reuse are free only between batches, so the window's
// minimum does not count them (tcmalloc still picks which spans go, so some may): giving back everything
// above the keep every second made the next batches fault them in again (soak p99 beside the hostile
// client 446-611 ms, against 280-340 ms without a trimmer). Under glibc the free bytes read -1 and nothing
// is given back (its fixed mmap threshold already unmaps large blocks).
//
//   HeapTrimmer::Options o;  // read every 100 ms, give back every 30 s what stayed free beyond 64 MiB
//   o.on_release = [m](int64_t bytes) { m->RecordHeapReleased(bytes); };
//   ASSIGN_OR_RETURN(std::unique_ptr<HeapTrimmer> trimmer, HeapTrimmer::Create(std::move(o)));
//
// Thread-safety: Create and the destructor from one thread; `free_bytes`, `release` and `on_release` run on
// the trimmer's thread.
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
    absl::Duration period = absl::Milliseconds(100);  // between readings, > 0
    absl::Duration window = absl::Seconds(30);        // between releases (window / period readings), >= period
    int64_t keep_bytes = int64_t{64} << 20;           // never given back, >= 0
    /// The free bytes now (-1: unknown); null: HeapFreeBytes. Tests pass fakes for both.
    std::function<int64_t()> free_bytes;
    /// Gives back about `bytes` and returns the bytes given back; null: ReleaseFreeHeapBytes.
    std::function<int64_t(int64_t bytes)> release;
    /// Called with the bytes of every release that gave something back (metrics); optional.
    std::function<void(int64_t bytes)> on_release;
  };

  /// INVALID_ARGUMENT naming the field for a period <= 0, a window shorter than the period or a negative
  /// keep_bytes.
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
