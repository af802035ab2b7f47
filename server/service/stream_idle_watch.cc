#include "server/service/stream_idle_watch.h"

#include <vector>

#include "core/util/thread_name.h"

namespace mivla::server {

absl::StatusOr<std::unique_ptr<StreamIdleWatch>> StreamIdleWatch::Create(absl::Duration idle_timeout) {
  if (idle_timeout <= absl::ZeroDuration()) return absl::InvalidArgumentError("stream idle timeout must be > 0");
  std::unique_ptr<StreamIdleWatch> w(new StreamIdleWatch(idle_timeout));
  w->thread_ = StartNamedThread("stream-idle", [p = w.get()] { p->Loop(); });
  return w;
}

StreamIdleWatch::~StreamIdleWatch() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void StreamIdleWatch::Add(IdleStream* s) {
  absl::MutexLock lock(&mu_);
  last_[s] = absl::Now();
}

void StreamIdleWatch::Touch(IdleStream* s) {
  absl::MutexLock lock(&mu_);
  if (auto it = last_.find(s); it != last_.end()) it->second = absl::Now();
}

void StreamIdleWatch::Pause(IdleStream* s) {
  absl::MutexLock lock(&mu_);
  if (auto it = last_.find(s); it != last_.end()) it->second = absl::InfiniteFuture();
}

void StreamIdleWatch::Remove(IdleStream* s) {
  absl::MutexLock lock(&mu_);
  last_.erase(s);
}

void StreamIdleWatch::Loop() {
  while (true) {
    std::vector<IdleStream*> idle;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), idle_timeout_ / 4);
      if (stop_) return;
      const absl::Time now = absl::Now();
      for (auto it = last_.begin(); it != last_.end();) {
        if (now - it->second > idle_timeout_) {
          it->first->Hold();  // cannot be deleted before Release below
          idle.push_back(it->first);
          last_.erase(it++);
        } else {
          ++it;
        }
      }
    }
    for (IdleStream* s : idle) {
      s->EndIdle();
      s->Release();
    }
  }
}

}  // namespace mivla::server
