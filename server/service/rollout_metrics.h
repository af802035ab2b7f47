// File: rollout_metrics.h
// Success-gated rollout in /metrics (issue 14): families refreshed from ModelManager::rollout_status()
// at every scrape. Label values are bounded: role = incumbent | canary, mode = latest | canary | pinned,
// decision = promote | rollback, by = test | operator; `version` takes one value per version this
// process served as incumbent or canary (a retired one drops to 0, as in mivla_model_info).
//
//   mivla_rollout_mode{mode}                      gauge    1 for the mode in force
//   mivla_rollout_version{role,version}           gauge    1 for the incumbent's and the canary's version
//   mivla_rollout_canary_share                    gauge    share of new sessions drawn for the canary (0: no trial)
//   mivla_rollout_sessions{role}                  gauge    new sessions assigned since the trial began
//   mivla_rollout_episodes{role}                  gauge    reported episodes since the trial began
//   mivla_rollout_successes{role}                 gauge    of those, successes
//   mivla_rollout_decisions_total{decision,by}    counter  promotions and rollbacks
//   mivla_rollout_last_p_value                    gauge    one-sided Fisher exact p of the last decision
//   mivla_rollout_rejected_checkpoints            gauge    files recorded rejected in the state file
//
// Thread-safety: the hook runs on the scraping thread; the state it keeps is its own, under a mutex.
#ifndef MIVLA_SERVER_SERVICE_ROLLOUT_METRICS_H_
#define MIVLA_SERVER_SERVICE_ROLLOUT_METRICS_H_

#include "absl/status/status.h"
#include "core/metrics/registry.h"
#include "server/model_manager/model_manager.h"

namespace mivla::server {

/// Registers the families in `registry` and a collect hook reading `models` (borrowed: it must outlive
/// every scrape of `registry`).
absl::Status RegisterRolloutMetrics(metrics::Registry* registry, const ModelManager* models);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_ROLLOUT_METRICS_H_
