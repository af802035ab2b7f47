#include "server/inference/image_decode_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/thread_name.h"

namespace mivla::server {

absl::StatusOr<std::unique_ptr<ImageDecodePool>> ImageDecodePool::Create(Options options) {
  if (options.threads < 1 || options.threads > 256) {
    return absl::InvalidArgumentError(absl::StrCat("image decode pool: threads ", options.threads, " not in [1, 256]"));
  }
  if (options.max_pending < 1) return absl::InvalidArgumentError("image decode pool: max_pending must be >= 1");
  std::unique_ptr<ImageDecodePool> p(new ImageDecodePool(options));
  for (int i = 0; i < options.threads; ++i) {
    // 15 bytes kept: distinct up to 255 threads.
    p->threads_.push_back(StartNamedThread(absl::StrCat("img-decode-", i), [raw = p.get()] { raw->Loop(); }));
  }
  return p;
}

ImageDecodePool::~ImageDecodePool() { Shutdown(); }

absl::Status ImageDecodePool::Submit(std::function<void()> job) {
  return SubmitParts(
      1, [job = std::move(job)](int) { job(); }, nullptr);
}

absl::Status ImageDecodePool::SubmitParts(int parts, std::function<void(int)> part, std::function<void()> done) {
  if (parts < 1) return absl::InvalidArgumentError(absl::StrCat("image decode pool: a job of ", parts, " parts"));
  auto job = std::make_shared<Job>();
  job->parts = parts;
  job->left.store(parts);
  job->part = std::move(part);
  job->done = std::move(done);
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("server is shutting down");
  if (jobs_.size() >= options_.max_pending) {
    return absl::ResourceExhaustedError(absl::StrCat("image decoding is full (", options_.max_pending,
                                                     " observations waiting); retry in about 50 ms"));
  }
  jobs_.push_back(std::move(job));
  return absl::OkStatus();
}

void ImageDecodePool::Loop() {
  while (true) {
    std::shared_ptr<Job> job;
    int part = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ImageDecodePool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) { return p->stopping_ || !p->jobs_.empty(); },
          this));
      if (jobs_.empty()) return;  // stopping and drained
      job = jobs_.front();
      part = job->next++;
      if (job->next == job->parts) jobs_.pop_front();
    }
    job->part(part);
    if (job->left.fetch_sub(1) == 1 && job->done) job->done();
  }
}

void ImageDecodePool::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

size_t ImageDecodePool::pending() const {
  absl::MutexLock lock(&mu_);
  return jobs_.size();
}

}  // namespace mivla::server
