// File: session_manager.h
// SessionManager: creates, finds and ends robot sessions; caps their number; expires idle ones. A
// session unknown, ended or idle for longer than `idle_timeout` is NOT_FOUND. Expiry happens lazily on
// lookup and eagerly on a sweeper thread, so expired sessions free their cached observations even when
// nobody asks for them again.
//
//   SessionManager::Options o; o.max_sessions = 256; o.idle_timeout = absl::Minutes(5);
//   auto sm = SessionManager::Create(o);
//   ASSIGN_OR_RETURN(std::shared_ptr<Session> s, (*sm)->Start(spec));
//   ASSIGN_OR_RETURN(std::shared_ptr<Session> again, (*sm)->Get(s->id()));
//   again->Touch(absl::Now());  // after the call on it succeeded
//
// Thread-safety: every method may be called from any thread.
#ifndef MIVLA_SERVER_SESSION_SESSION_MANAGER_H_
#define MIVLA_SERVER_SESSION_SESSION_MANAGER_H_

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/session/session.h"

namespace mivla::server {

class SessionManager {
 public:
  struct Options {
    size_t max_sessions = 256;                 // StartSession beyond it: RESOURCE_EXHAUSTED
    size_t max_sessions_per_client = 0;        // sessions one SessionSpec::client may hold; 0 = no cap
    absl::Duration idle_timeout = absl::Minutes(5);
    absl::Duration sweep_interval = absl::Seconds(1);
    size_t observation_history = 4;           // encoded observations kept per session
  };

  static absl::StatusOr<std::unique_ptr<SessionManager>> Create(Options options);
  ~SessionManager();

  absl::StatusOr<std::shared_ptr<Session>> Start(SessionSpec spec);
  /// RESOURCE_EXHAUSTED at max_sessions, or when spec.client (non-empty) holds max_sessions_per_client.
  /// NOT_FOUND (naming the id) for unknown, ended or expired sessions. Does not refresh the idle clock:
  /// the caller calls Session::Touch once the call succeeded.
  absl::StatusOr<std::shared_ptr<Session>> Get(const std::string& id);
  absl::Status End(const std::string& id);
  /// Expires sessions idle since before `now - idle_timeout`; returns how many.
  size_t ExpireIdle(absl::Time now);

  /// Live sessions (expired ones count until the sweep or a Get finds them). Lock-free: the batch queues
  /// read it each time they plan a batch (BatchQueueOptions::sources).
  size_t size() const { return count_.load(std::memory_order_relaxed); }
  /// Live sessions per embodiment, indexed by static_cast<int>(Embodiment) (for the sessions gauge).
  std::array<size_t, action::kNumEmbodiments> CountByEmbodiment() const;
  absl::Duration idle_timeout() const { return options_.idle_timeout; }

 private:
  explicit SessionManager(Options options) : options_(std::move(options)) {}
  void SweepLoop();
  /// Publishes sessions_.size() to count_ after a change.
  void Counted() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { count_.store(sessions_.size(), std::memory_order_relaxed); }

  const Options options_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> count_{0};  // sessions_.size(), written under mu_
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread sweeper_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SESSION_SESSION_MANAGER_H_
