#include "server/service/rollout_metrics.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/util/status_macros.h"

namespace mivla::server {
namespace {

template <typename T>
T* Child(metrics::Family<T>* f, const std::vector<std::string>& labels) {
  auto c = f->WithLabels(labels);
  return c.ok() ? *c : nullptr;
}

class RolloutCollector {
 public:
  explicit RolloutCollector(const ModelManager* models) : models_(models) {}
  absl::Status Register(metrics::Registry* r);
  void Collect();

 private:
  const ModelManager* models_;
  metrics::Family<metrics::Gauge>* mode_ = nullptr;
  metrics::Family<metrics::Gauge>* version_ = nullptr;
  metrics::Family<metrics::Gauge>* share_ = nullptr;
  metrics::Family<metrics::Gauge>* sessions_ = nullptr;
  metrics::Family<metrics::Gauge>* episodes_ = nullptr;
  metrics::Family<metrics::Gauge>* successes_ = nullptr;
  metrics::Family<metrics::Counter>* decisions_ = nullptr;
  metrics::Family<metrics::Gauge>* p_value_ = nullptr;
  metrics::Family<metrics::Gauge>* rejected_ = nullptr;
  absl::Mutex mu_;
  std::map<std::string, std::string> shown_ ABSL_GUARDED_BY(mu_);  // role -> version set to 1
  RolloutDecisionCounts counted_ ABSL_GUARDED_BY(mu_);             // decisions already in the counter
};

absl::Status RolloutCollector::Register(metrics::Registry* r) {
  ASSIGN_OR_RETURN(mode_, r->AddGauge("mivla_rollout_mode", "1 for the rollout mode in force (latest, canary, pinned).",
                                      {"mode"}));
  ASSIGN_OR_RETURN(version_, r->AddGauge("mivla_rollout_version",
                                         "1 for the version serving as incumbent or canary; 0 once retired.",
                                         {"role", "version"}));
  ASSIGN_OR_RETURN(share_, r->AddGauge("mivla_rollout_canary_share",
                                       "Share of new sessions drawn for the canary (0 when no trial runs).", {}));
  ASSIGN_OR_RETURN(sessions_, r->AddGauge("mivla_rollout_sessions",
                                          "New sessions assigned to the incumbent / canary since the trial began.",
                                          {"role"}));
  ASSIGN_OR_RETURN(episodes_, r->AddGauge("mivla_rollout_episodes",
                                          "Episodes reported by sessions of the incumbent / canary since the trial began.",
                                          {"role"}));
  ASSIGN_OR_RETURN(successes_, r->AddGauge("mivla_rollout_successes",
                                           "Successful episodes of the incumbent / canary since the trial began.",
                                           {"role"}));
  ASSIGN_OR_RETURN(decisions_, r->AddCounter("mivla_rollout_decisions_total",
                                             "Canary promotions and rollbacks, by the one-sided test or an operator.",
                                             {"decision", "by"}));
  ASSIGN_OR_RETURN(p_value_, r->AddGauge("mivla_rollout_last_p_value",
                                         "One-sided Fisher exact p-value (canary worse) of the last decision.", {}));
  ASSIGN_OR_RETURN(rejected_, r->AddGauge("mivla_rollout_rejected_checkpoints",
                                          "Checkpoint files recorded rejected (never loaded again).", {}));
  for (const char* mode : {"latest", "canary", "pinned"}) Child(mode_, {mode});
  for (const char* role : {"incumbent", "canary"}) {
    Child(sessions_, {role});
    Child(episodes_, {role});
    Child(successes_, {role});
  }
  for (const char* d : {"promote", "rollback"}) {
    for (const char* by : {"test", "operator"}) Child(decisions_, {d, by});
  }
  Child(share_, {});
  Child(p_value_, {})->Set(1);
  Child(rejected_, {});
  return absl::OkStatus();
}

void RolloutCollector::Collect() {
  const RolloutStatus st = models_->rollout_status();
  for (const char* mode : {"latest", "canary", "pinned"}) Child(mode_, {mode})->Set(st.mode == mode ? 1 : 0);
  absl::MutexLock lock(&mu_);
  auto show = [&](const char* role, const std::optional<VersionStatus>& v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const std::string version = v ? v->version : "";
    auto it = shown_.find(role);
    if (it != shown_.end() && it->second != version) Child(version_, {role, it->second})->Set(0);
    if (!version.empty()) Child(version_, {role, version})->Set(1);
    shown_[role] = version;
    const ArmCounts c = v ? v->counts : ArmCounts{};
    Child(sessions_, {role})->Set(static_cast<double>(c.sessions));
    Child(episodes_, {role})->Set(static_cast<double>(c.episodes));
    Child(successes_, {role})->Set(static_cast<double>(c.successes));
  };
  show("incumbent", st.incumbent);
  show("canary", st.canary);
  Child(share_, {})->Set(st.canary ? st.options.canary_share : 0);
  auto add = [&](const char* d, const char* by, int64_t now, int64_t* seen) {
    if (now > *seen) Child(decisions_, {d, by})->Inc(static_cast<double>(now - *seen));
    *seen = now;
  };
  add("promote", "test", st.decisions.promoted_by_test, &counted_.promoted_by_test);
  add("rollback", "test", st.decisions.rolled_back_by_test, &counted_.rolled_back_by_test);
  add("promote", "operator", st.decisions.promoted_by_operator, &counted_.promoted_by_operator);
  add("rollback", "operator", st.decisions.rolled_back_by_operator, &counted_.rolled_back_by_operator);
  if (st.last_decision) Child(p_value_, {})->Set(st.last_decision->p_value);
  Child(rejected_, {})->Set(static_cast<double>(st.rejected_checkpoints));
}

}  // namespace

absl::Status RegisterRolloutMetrics(metrics::Registry* registry, const ModelManager* models) {
  auto collector = std::make_shared<RolloutCollector>(models);
  RETURN_IF_ERROR(collector->Register(registry));
  registry->AddCollectHook([collector] { collector->Collect(); });
  return absl::OkStatus();
}

}  // namespace mivla::server
