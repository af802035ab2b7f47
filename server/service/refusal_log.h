// File: refusal_log.h
// RefusalLog: one JSON line per refused request, so an operator can see who sends what:
//   {"event":"refused","time":"2026-12-01T14:02:03.123456Z","rpc":"Observe","code":"INVALID_ARGUMENT",
//    "session":"3f2a...","client":"token#2","peer":"ipv4:10.0.0.7:51234","robot_id":"arm-7",
//    "field":"images[0]","message":"images[0]: JPEG size 30000x30000 exceeds 4096 ..."}
// Client-supplied values are quoted through ClipForEcho (at most max_value_bytes each, never the
// whole of a large value), and the message is cut to max_message_bytes. A token bucket limits the
// lines (`lines_per_second`, bursts of `burst`): a flood of bad requests cannot fill the disk; the
// next line written says how many were suppressed ("suppressed":N).
// Lines go to `sink` (default: stderr, one fwrite per line). Thread-safe.
#ifndef MIVLA_SERVER_SERVICE_REFUSAL_LOG_H_
#define MIVLA_SERVER_SERVICE_REFUSAL_LOG_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mivla::server {

struct Refusal {
  std::string rpc;
  absl::Status status;
  std::string session;  // as the client sent it
  std::string client;   // token identity, "" without tokens
  std::string peer;
  std::string robot_id;
};

class RefusalLog {
 public:
  struct Options {
    double lines_per_second = 20;
    int burst = 100;
    size_t max_value_bytes = 64;
    size_t max_message_bytes = 300;
    std::function<void(const std::string& line)> sink;  // default: stderr
  };
  explicit RefusalLog(Options options);

  /// Writes (or counts as suppressed) one line. Returns whether it was written.
  bool Record(const Refusal& r, absl::Time now = absl::Now());
  int64_t suppressed_total() const;

  /// The field an error message names: the text before the first ": " when it looks like a field
  /// path (letters, digits, '_', '.', '[', ']'), else "".
  static std::string FieldOf(const absl::Status& s);

 private:
  const Options options_;
  mutable absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time refilled_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t suppressed_since_last_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t suppressed_total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_REFUSAL_LOG_H_
