// File: backoff.h
// Capped exponential backoff for reconnecting to the policy server: initial, initial x multiplier, ...
// up to `max`, then `max` until Reset(). Plain value; not thread-safe.
#ifndef MIVLA_CLIENT_NET_BACKOFF_H_
#define MIVLA_CLIENT_NET_BACKOFF_H_

#include <algorithm>
#include <cstdint>

namespace mivla::client {

struct BackoffOptions {
  int64_t initial_ms = 50;
  int64_t max_ms = 2000;
  double multiplier = 2.0;
};

class Backoff {
 public:
  explicit Backoff(BackoffOptions options) : options_(options), next_ms_(options.initial_ms) {}

  /// The delay before the next attempt; grows for the one after.
  int64_t NextDelayMs() {
    const int64_t d = std::min(next_ms_, options_.max_ms);
    next_ms_ = std::min<int64_t>(options_.max_ms, static_cast<int64_t>(next_ms_ * options_.multiplier) + 1);
    ++attempts_;
    return d;
  }
  void Reset() {
    next_ms_ = options_.initial_ms;
    attempts_ = 0;
  }
  int attempts() const { return attempts_; }

 private:
  BackoffOptions options_;
  int64_t next_ms_;
  int attempts_ = 0;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_NET_BACKOFF_H_
