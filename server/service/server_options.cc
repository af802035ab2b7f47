#include "server/service/server_options.h"

#include "absl/strings/str_cat.h"
#include "server/batching/batch_queue_options.h"

namespace mivla::server {
namespace {

absl::Status Bad(const char* flag, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", why));
}

absl::Status CheckStage(const char* name, const StageOptions& s) {
  if (s.max_batch_size < 1 || s.max_batch_size > 1024) {
    return Bad(absl::StrCat(name, "-max-batch-size").c_str(), absl::StrCat(s.max_batch_size, " not in [1, 1024]"));
  }
  if (s.max_queue_delay_us < 0) return Bad(absl::StrCat(name, "-max-queue-delay-us").c_str(), "must be >= 0");
  if (s.max_queue_depth < 1) return Bad(absl::StrCat(name, "-max-queue-depth").c_str(), "must be >= 1");
  if (s.workers < 1 || s.workers > 64) return Bad(absl::StrCat(name, "-workers").c_str(), "not in [1, 64]");
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateServerOptions(const ServerOptions& o) {
  if (o.port < 0 || o.port > 65535) return Bad("port", absl::StrCat(o.port, " not in [0, 65535]"));
  if (o.metrics_port < -1 || o.metrics_port > 65535) {
    return Bad("metrics-port", absl::StrCat(o.metrics_port, " not in [-1, 65535]"));
  }
  if (o.model_dir.empty() && !o.random_init) return Bad("model-dir", "required unless --random-init is set");
  if (o.runtime_loader == nullptr) {
    return absl::InvalidArgumentError("runtime_loader: not set (mivla-server uses the LibTorch runtime's loader)");
  }
  if (o.max_message_bytes < 1024) return Bad("max-message-bytes", "must be >= 1024");
  if (o.max_control_request_bytes < 1024) return Bad("max-control-request-bytes", "must be >= 1024");
  if (o.max_sessions < 1) return Bad("max-sessions", "must be >= 1");
  if (o.session_idle_timeout <= absl::ZeroDuration()) return Bad("session-idle-timeout-s", "must be > 0");
  if (o.observation_history < 1) return Bad("observation-history", "must be >= 1");
  if (o.limits.max_views < 1) return Bad("max-views", "must be >= 1");
  if (o.limits.max_image_side < 16) return Bad("max-image-side", "must be >= 16");
  if (o.limits.max_image_bytes < 1024 || o.limits.max_image_bytes > static_cast<size_t>(o.max_message_bytes)) {
    return Bad("max-image-bytes", "must be in [1024, --max-message-bytes]");
  }
  if (o.limits.max_image_pixels < 256) return Bad("max-image-pixels", "must be >= 256");
  if (!(o.limits.min_control_rate_hz > 0 && o.limits.min_control_rate_hz <= o.limits.max_control_rate_hz)) {
    return Bad("min-control-rate-hz", "must be > 0 and <= --max-control-rate-hz");
  }
  if (o.limits.max_future_skew_us < 0) return Bad("max-future-skew-s", "must be >= 0");
  if (o.image_decode_threads < 1 || o.image_decode_threads > 64) return Bad("image-decode-threads", "not in [1, 64]");
  if (o.image_decode_max_pending < 1) return Bad("image-decode-max-pending", "must be >= 1");
  if (o.max_in_flight_per_session < 0) return Bad("max-in-flight-per-session", "must be >= 0");
  if (o.max_in_flight_per_client < 0) return Bad("max-in-flight-per-client", "must be >= 0");
  if (o.max_sessions_per_client < 0) return Bad("max-sessions-per-client", "must be >= 0");
  if (o.stream_idle_timeout < absl::ZeroDuration()) return Bad("stream-idle-timeout-s", "must be >= 0");
  if (o.max_task_labels < 0) return Bad("max-task-labels", "must be >= 0");
  if (!(o.refusal_log_per_second > 0) || o.refusal_log_burst < 1) {
    return Bad("refusal-log-per-second", "must be > 0 (and --refusal-log-burst >= 1)");
  }
  if (o.metrics_deadline <= absl::ZeroDuration()) return Bad("metrics-deadline-ms", "must be > 0");
  if (o.metrics_max_connections < 1) return Bad("metrics-max-connections", "must be >= 1");
  if (o.heap_keep_mib < -1) return Bad("heap-keep-mib", "must be >= 0, or -1 for no trimming");
  if (o.drain_timeout < absl::ZeroDuration()) return Bad("drain-timeout-s", "must be >= 0");
  BatchPolicy policy;
  if (absl::Status s = ParseBatchPolicy(o.batch_policy, "--batch-policy", &policy); !s.ok()) return s;
  if (absl::Status s = CheckStage("encode", o.encode); !s.ok()) return s;
  return CheckStage("decode", o.decode);
}

}  // namespace mivla::server
