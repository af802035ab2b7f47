// File: stream_idle_watch.h
// StreamIdleWatch: ends StreamAct streams that sent nothing for `idle_timeout` (optional; off by
// default), so an idle or abandoned stream does not hold a server slot forever. A thread wakes every
// `idle_timeout / 4` and asks each stream idle for longer to end itself (IdleStream::EndIdle; the
// stream answers DEADLINE_EXCEEDED naming --stream-idle-timeout-s).
//
// A stream waiting on the server (a request in the engine) is not idle: Pause stops its clock until
// the next Touch, so however long the server takes, it is never ended for it.
// Lifetime: a stream registers with Add, reports activity with Touch and calls Remove before it can
// be deleted. The watch Holds a stream (keeps it from deleting itself) while it calls EndIdle, and
// never calls into a stream while holding its own lock, so EndIdle may run gRPC callbacks inline.
// Thread-safety: every method may be called from any thread.
#ifndef MIVLA_SERVER_SERVICE_STREAM_IDLE_WATCH_H_
#define MIVLA_SERVER_SERVICE_STREAM_IDLE_WATCH_H_

#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mivla::server {

class IdleStream {
 public:
  virtual ~IdleStream() = default;
  virtual void Hold() = 0;     // keeps the stream alive until Release
  virtual void Release() = 0;
  virtual void EndIdle() = 0;  // ends the stream (idempotent)
};

class StreamIdleWatch {
 public:
  static absl::StatusOr<std::unique_ptr<StreamIdleWatch>> Create(absl::Duration idle_timeout);
  ~StreamIdleWatch();

  void Add(IdleStream* s);
  void Touch(IdleStream* s);  // activity: the idle clock starts again (and runs, after a Pause)
  void Pause(IdleStream* s);  // the server owes the stream an answer: not idle until the next Touch
  void Remove(IdleStream* s);
  absl::Duration idle_timeout() const { return idle_timeout_; }

 private:
  explicit StreamIdleWatch(absl::Duration t) : idle_timeout_(t) {}
  void Loop();

  const absl::Duration idle_timeout_;
  absl::Mutex mu_;
  absl::flat_hash_map<IdleStream*, absl::Time> last_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_STREAM_IDLE_WATCH_H_
