// File: client_metrics.cc
#include "client/robot/client_metrics.h"

#include <cmath>

#include "core/metrics/process_metrics.h"
#include "core/util/status_macros.h"

namespace mivla::client {

absl::StatusOr<std::unique_ptr<ClientMetrics>> ClientMetrics::Create(metrics::Registry* registry) {
  std::unique_ptr<ClientMetrics> m(new ClientMetrics());
  using metrics::Histogram;
  // 1 ms .. ~4 s for periods and round trips; 10 us .. ~80 ms for jitter.
  ASSIGN_OR_RETURN(auto* period, registry->AddHistogram("mivla_client_control_period_seconds",
                                                        "Time between consecutive control ticks.", {},
                                                        Histogram::ExponentialBounds(0.001, 1.5, 21)));
  ASSIGN_OR_RETURN(auto* jitter, registry->AddHistogram("mivla_client_control_jitter_seconds",
                                                        "Absolute deviation of the control period from nominal.",
                                                        {}, Histogram::ExponentialBounds(1e-5, 2.0, 14)));
  ASSIGN_OR_RETURN(auto* rtt, registry->AddHistogram("mivla_client_chunk_round_trip_seconds",
                                                     "Observe sent to Act answered (one chunk).", {},
                                                     Histogram::ExponentialBounds(0.001, 1.5, 21)));
  ASSIGN_OR_RETURN(auto* ticks, registry->AddCounter("mivla_client_ticks_total",
                                                     "Control ticks by what the robot was sent: chunk = an "
                                                     "action of a fresh chunk, hold = a safety hold.",
                                                     {"source"}));
  ASSIGN_OR_RETURN(auto* holds, registry->AddCounter("mivla_client_holds_total",
                                                     "Safety hold episodes started, by reason.", {"reason"}));
  ASSIGN_OR_RETURN(auto* stale, registry->AddCounter("mivla_client_stale_chunk_holds_total",
                                                     "Hold episodes started because the newest chunk was stale.", {}));
  ASSIGN_OR_RETURN(auto* clamps, registry->AddCounter("mivla_client_safety_clamps_total",
                                                      "Control ticks whose command the safety layer clamped, by kind.",
                                                      {"kind"}));
  ASSIGN_OR_RETURN(auto* chunks, registry->AddCounter("mivla_client_chunks_total", "Action chunks received.", {}));
  ASSIGN_OR_RETURN(auto* missed, registry->AddCounter("mivla_client_missed_deadlines_total",
                                                      "Control tick deadlines skipped because a tick started "
                                                      "late (overruns; no catch-up ticks follow).", {}));
  ASSIGN_OR_RETURN(auto* rec, registry->AddCounter("mivla_client_reconnects_total",
                                                   "Successful reconnects to the policy server.", {}));
  ASSIGN_OR_RETURN(auto* conn, registry->AddGauge("mivla_client_server_connected",
                                                  "1 while the policy session is up, else 0.", {}));
  ASSIGN_OR_RETURN(m->period_, period->WithLabels({}));
  ASSIGN_OR_RETURN(m->jitter_, jitter->WithLabels({}));
  ASSIGN_OR_RETURN(m->round_trip_, rtt->WithLabels({}));
  ASSIGN_OR_RETURN(m->ticks_fresh_, ticks->WithLabels({"chunk"}));
  ASSIGN_OR_RETURN(m->ticks_hold_, ticks->WithLabels({"hold"}));
  for (int r = 1; r < kNumHoldReasons; ++r) {
    ASSIGN_OR_RETURN(m->holds_[r], holds->WithLabels({HoldReasonName(static_cast<HoldReason>(r))}));
  }
  ASSIGN_OR_RETURN(m->stale_holds_, stale->WithLabels({}));
  for (int k = 0; k < kNumClampKinds; ++k) {
    ASSIGN_OR_RETURN(m->clamps_[k], clamps->WithLabels({ClampKindName(static_cast<ClampKind>(k))}));
  }
  ASSIGN_OR_RETURN(m->chunks_, chunks->WithLabels({}));
  ASSIGN_OR_RETURN(m->reconnects_, rec->WithLabels({}));
  ASSIGN_OR_RETURN(m->missed_, missed->WithLabels({}));
  ASSIGN_OR_RETURN(m->connected_, conn->WithLabels({}));
  RETURN_IF_ERROR(metrics::RegisterProcessMetrics(registry));
  return m;
}

void ClientMetrics::ObserveTick(double period_s, double nominal_period_s) {
  period_->Observe(period_s);
  jitter_->Observe(std::abs(period_s - nominal_period_s));
}

void ClientMetrics::ObserveRoundTrip(double seconds) { round_trip_->Observe(seconds); }
void ClientMetrics::CountTick(bool fresh) { (fresh ? ticks_fresh_ : ticks_hold_)->Inc(); }

void ClientMetrics::CountHold(HoldReason reason) {
  const int r = static_cast<int>(reason);
  if (r <= 0 || r >= kNumHoldReasons) return;
  holds_[r]->Inc();
  if (reason == HoldReason::kStaleChunk) stale_holds_->Inc();
}

void ClientMetrics::CountClamp(ClampKind kind) { clamps_[static_cast<int>(kind)]->Inc(); }

}  // namespace mivla::client
