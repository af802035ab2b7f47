#include "server/service/in_flight_limiter.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace mivla::server {

InFlightLimiter::Ticket& InFlightLimiter::Ticket::operator=(Ticket&& o) noexcept {
  if (this != &o) {
    Release();
    owner_ = std::exchange(o.owner_, nullptr);
    session_ = std::move(o.session_);
    client_ = std::move(o.client_);
  }
  return *this;
}

void InFlightLimiter::Ticket::Release() {
  if (owner_ == nullptr) return;
  std::exchange(owner_, nullptr)->Put(session_, client_);
}

absl::StatusOr<InFlightLimiter::Ticket> InFlightLimiter::Acquire(const std::string& session_id,
                                                                 const std::string& client) {
  absl::MutexLock lock(&mu_);
  int& s = sessions_[session_id];
  if (options_.per_session > 0 && s >= options_.per_session) {
    return absl::ResourceExhaustedError(absl::StrCat("session ", session_id, " already has ", s,
                                                     " calls in flight (--max-in-flight-per-session); retry in ",
                                                     options_.retry_after_ms, " ms, after one completes"));
  }
  if (!client.empty()) {
    int& c = clients_[client];
    if (options_.per_client > 0 && c >= options_.per_client) {
      if (s == 0) sessions_.erase(session_id);
      return absl::ResourceExhaustedError(absl::StrCat("client ", client, " already has ", c,
                                                       " calls in flight (--max-in-flight-per-client); retry in ",
                                                       options_.retry_after_ms, " ms, after one completes"));
    }
    ++c;
  }
  ++s;
  Ticket t;
  t.owner_ = this;
  t.session_ = session_id;
  t.client_ = client;
  return t;
}

void InFlightLimiter::Put(const std::string& session, const std::string& client) {
  absl::MutexLock lock(&mu_);
  if (auto it = sessions_.find(session); it != sessions_.end() && --it->second <= 0) sessions_.erase(it);
  if (client.empty()) return;
  if (auto it = clients_.find(client); it != clients_.end() && --it->second <= 0) clients_.erase(it);
}

int InFlightLimiter::InFlight(const std::string& session_id) const {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? 0 : it->second;
}

}  // namespace mivla::server
