// File: in_flight_limiter.h
// InFlightLimiter: caps the calls one session, and one client (bearer token), may have in flight at
// once, so one robot cannot fill the queues that every robot shares. A call over a cap is refused at
// once with RESOURCE_EXHAUSTED and a retry hint (also sent as gRPC's `grpc-retry-pushback-ms`
// trailer by the service); it never waits.
//
//   InFlightLimiter limiter({.per_session = 4, .per_client = 64});
//   ASSIGN_OR_RETURN(InFlightLimiter::Ticket t, limiter.Acquire(session_id, client));
//   ... the call runs; the ticket's destructor (or Release) frees the slot ...
//
// Thread-safety: every method may be called from any thread; a Ticket may be released on another
// thread than the one that acquired it.
#ifndef MIVLA_SERVER_SERVICE_IN_FLIGHT_LIMITER_H_
#define MIVLA_SERVER_SERVICE_IN_FLIGHT_LIMITER_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace mivla::server {

class InFlightLimiter {
 public:
  struct Options {
    int per_session = 4;   // 0 = no cap
    int per_client = 64;   // 0 = no cap; only applies to calls with a client ("" = none)
    int retry_after_ms = 50;
  };

  /// Holds one slot of a session and of a client until destroyed or released. Movable.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& o) noexcept { *this = std::move(o); }
    Ticket& operator=(Ticket&& o) noexcept;
    ~Ticket() { Release(); }
    void Release();

   private:
    friend class InFlightLimiter;
    InFlightLimiter* owner_ = nullptr;
    std::string session_, client_;
  };

  explicit InFlightLimiter(Options options) : options_(options) {}

  /// RESOURCE_EXHAUSTED naming the session (or client), its cap's flag and a retry hint.
  absl::StatusOr<Ticket> Acquire(const std::string& session_id, const std::string& client);
  int retry_after_ms() const { return options_.retry_after_ms; }
  /// Calls in flight for a session (tests and metrics).
  int InFlight(const std::string& session_id) const;

 private:
  void Put(const std::string& session, const std::string& client);

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> sessions_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> clients_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_IN_FLIGHT_LIMITER_H_
