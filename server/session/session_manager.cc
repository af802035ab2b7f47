#include "server/session/session_manager.h"

#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/util/thread_name.h"

namespace mivla::server {
namespace {

std::string NewSessionId() {
  thread_local absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SessionManager>> SessionManager::Create(Options options) {
  if (options.max_sessions < 1) return absl::InvalidArgumentError("sessions: max_sessions must be >= 1");
  if (options.idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sessions: idle_timeout must be > 0");
  }
  std::unique_ptr<SessionManager> sm(new SessionManager(std::move(options)));
  if (sm->options_.sweep_interval > absl::ZeroDuration()) {
    sm->sweeper_ = StartNamedThread("session-sweep", [p = sm.get()] { p->SweepLoop(); });
  }
  return sm;
}

SessionManager::~SessionManager() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (sweeper_.joinable()) sweeper_.join();
}

void SessionManager::SweepLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.sweep_interval);
      if (stop_) return;
    }
    ExpireIdle(absl::Now());
  }
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Start(SessionSpec spec) {
  auto session = std::make_shared<Session>(NewSessionId(), std::move(spec), options_.observation_history);
  absl::MutexLock lock(&mu_);
  if (sessions_.size() >= options_.max_sessions) {
    return absl::ResourceExhaustedError(absl::StrCat("session limit reached (", options_.max_sessions,
                                                     " sessions); end one or retry later"));
  }
  const std::string& client = session->spec().client;
  if (options_.max_sessions_per_client > 0 && !client.empty()) {
    size_t held = 0;
    for (const auto& [id, s] : sessions_) held += s->spec().client == client ? 1 : 0;
    if (held >= options_.max_sessions_per_client) {
      return absl::ResourceExhaustedError(absl::StrCat("client ", client, " holds ", held, " sessions, the most one client may (",
                                                       "--max-sessions-per-client); end one first"));
    }
  }
  sessions_[session->id()] = session;
  Counted();
  return session;
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Get(const std::string& id) {
  const absl::Time now = absl::Now();
  std::shared_ptr<Session> s;
  std::shared_ptr<Session> expired;  // released outside the lock: the last reference to a retired model
                                     // version may go with it, and its teardown must not hold up lookups
  {
    absl::MutexLock lock(&mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) {
      return absl::NotFoundError(absl::StrCat("session_id '", id, "' is unknown, ended or expired"));
    }
    if (now - it->second->last_used() > options_.idle_timeout) {
      expired = std::move(it->second);
      sessions_.erase(it);
      Counted();
      return absl::NotFoundError(absl::StrCat("session_id '", id, "' expired after ",
                                              absl::FormatDuration(options_.idle_timeout), " idle"));
    }
    s = it->second;
  }
  return s;
}

absl::Status SessionManager::End(const std::string& id) {
  std::shared_ptr<Session> ended;  // released outside the lock, as in Get
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    return absl::NotFoundError(absl::StrCat("session_id '", id, "' is unknown, ended or expired"));
  }
  ended = std::move(it->second);
  sessions_.erase(it);
  Counted();
  return absl::OkStatus();
}

size_t SessionManager::ExpireIdle(absl::Time now) {
  std::vector<std::shared_ptr<Session>> expired;  // released outside the lock
  absl::MutexLock lock(&mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second->last_used() > options_.idle_timeout) {
      expired.push_back(std::move(it->second));
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  Counted();
  return expired.size();
}

std::array<size_t, action::kNumEmbodiments> SessionManager::CountByEmbodiment() const {
  std::array<size_t, action::kNumEmbodiments> counts{};
  absl::MutexLock lock(&mu_);
  for (const auto& [id, s] : sessions_) ++counts[static_cast<int>(s->spec().embodiment)];
  return counts;
}

}  // namespace mivla::server
