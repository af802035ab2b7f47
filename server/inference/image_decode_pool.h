// File: image_decode_pool.h
// ImageDecodePool: a few threads that decode and resize the images of Observe calls after validation
// and before the encode queue, so one robot's images are decoded beside other robots' images, not
// ahead of them, and the encode stage's batch never waits on a decoder. Jobs run in FIFO order; the
// pool is bounded (a full pool answers RESOURCE_EXHAUSTED with a retry hint at once) and per-session
// in-flight limits (server/service/fairness.h) keep one robot from filling it.
//
// A job may have parts (an observation's camera views): threads take the parts of the oldest job in
// order, so an idle pool decodes one robot's views side by side, while a busy one still serves robots
// in arrival order. A job counts once against max_pending, whatever its parts.
//
//   auto pool = ImageDecodePool::Create({.threads = 2, .max_pending = 64});
//   absl::Status s = (*pool)->Submit([task] { /* decode */ });  // runs on a pool thread
//   s = (*pool)->SubmitParts(3, [obs](int view) { /* decode one view */ }, [obs] { /* all three done */ });
//   (*pool)->Shutdown();  // runs what is queued, then joins
//
// Thread-safety: Submit and SubmitParts from any thread; Shutdown once (also run by the destructor). Jobs,
// their parts and their `done` must not call Submit, SubmitParts or Shutdown.
#ifndef MIVLA_SERVER_INFERENCE_IMAGE_DECODE_POOL_H_
#define MIVLA_SERVER_INFERENCE_IMAGE_DECODE_POOL_H_

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace mivla::server {

class ImageDecodePool {
 public:
  struct Options {
    int threads = 2;           // >= 1
    size_t max_pending = 64;   // queued jobs beyond which Submit refuses
  };
  static absl::StatusOr<std::unique_ptr<ImageDecodePool>> Create(Options options);
  ~ImageDecodePool();

  /// Queues `job`. RESOURCE_EXHAUSTED when max_pending jobs wait; UNAVAILABLE after Shutdown.
  absl::Status Submit(std::function<void()> job);
  /// Queues a job of `parts` (>= 1) independent parts: part(0) .. part(parts - 1) may run at once on
  /// different threads; `done` (may be empty) runs once, after the last part, on the thread that ran it.
  /// Errors as Submit (INVALID_ARGUMENT for parts < 1); on an error nothing runs.
  absl::Status SubmitParts(int parts, std::function<void(int)> part, std::function<void()> done);
  /// Refuses new jobs, runs the queued ones, joins the threads. Idempotent.
  void Shutdown();
  size_t pending() const;

 private:
  // A queued job: its parts are taken in order (next), and the thread that finishes the last one (left)
  // runs done.
  struct Job {
    int parts = 1;
    int next = 0;  // guarded by the pool's mu_ while the job is queued
    std::atomic<int> left{1};
    std::function<void(int)> part;
    std::function<void()> done;
  };

  explicit ImageDecodePool(Options options) : options_(options) {}
  void Loop();

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<Job>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_IMAGE_DECODE_POOL_H_
