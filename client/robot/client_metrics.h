// File: client_metrics.h
// The robot client's Prometheus metrics (core/metrics), exposed by the binaries on --metrics-port:
//   mivla_client_control_period_seconds      histogram  time between consecutive control ticks
//   mivla_client_control_jitter_seconds      histogram  |period - nominal period|
//   mivla_client_chunk_round_trip_seconds    histogram  Observe sent -> Act answered
//   mivla_client_ticks_total{source}         counter    source = chunk (served from a fresh chunk) | hold
//   mivla_client_holds_total{reason}         counter    hold episodes started: no_action, stale_chunk,
//                                                       server_lost, non_finite, operator_stop
//   mivla_client_stale_chunk_holds_total     counter    hold episodes started because the chunk went stale
//   mivla_client_safety_clamps_total{kind}   counter    ticks clamped: position, velocity, acceleration,
//                                                       workspace, gripper
//   mivla_client_chunks_total                counter    chunks received
//   mivla_client_missed_deadlines_total      counter    tick deadlines skipped (overruns): a tick that
//                                                       started late was not followed by catch-up ticks
//   mivla_client_reconnects_total            counter    successful reconnects
//   mivla_client_server_connected            gauge      1 while the session is up
// plus the process_* metrics. Thread-safe (the families' children are atomic).
#ifndef MIVLA_CLIENT_ROBOT_CLIENT_METRICS_H_
#define MIVLA_CLIENT_ROBOT_CLIENT_METRICS_H_

#include <array>
#include <memory>

#include "absl/status/statusor.h"
#include "client/control/safety_layer.h"
#include "core/metrics/registry.h"

namespace mivla::client {

class ClientMetrics {
 public:
  /// Registers the families in `registry` (not owned; must outlive this object).
  static absl::StatusOr<std::unique_ptr<ClientMetrics>> Create(metrics::Registry* registry);

  void ObserveTick(double period_s, double nominal_period_s);
  void ObserveRoundTrip(double seconds);
  void CountTick(bool fresh);
  void CountHold(HoldReason reason);
  void CountClamp(ClampKind kind);
  void CountChunk() { chunks_->Inc(); }
  void CountMissedDeadlines(int64_t n) { missed_->Inc(static_cast<double>(n)); }
  void CountReconnect() { reconnects_->Inc(); }
  void SetConnected(bool connected) { connected_->Set(connected ? 1.0 : 0.0); }

 private:
  ClientMetrics() = default;
  metrics::Histogram* period_ = nullptr;
  metrics::Histogram* jitter_ = nullptr;
  metrics::Histogram* round_trip_ = nullptr;
  metrics::Counter* ticks_fresh_ = nullptr;
  metrics::Counter* ticks_hold_ = nullptr;
  std::array<metrics::Counter*, kNumHoldReasons> holds_{};
  metrics::Counter* stale_holds_ = nullptr;
  std::array<metrics::Counter*, kNumClampKinds> clamps_{};
  metrics::Counter* chunks_ = nullptr;
  metrics::Counter* missed_ = nullptr;
  metrics::Counter* reconnects_ = nullptr;
  metrics::Gauge* connected_ = nullptr;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_ROBOT_CLIENT_METRICS_H_
