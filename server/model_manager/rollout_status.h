// File: rollout_status.h
// A snapshot of success-gated rollout, as ModelManager::rollout_status() returns it for /metrics,
// GetPolicyInfo and tests. Plain values; copy freely.
#ifndef MIVLA_SERVER_MODEL_MANAGER_ROLLOUT_STATUS_H_
#define MIVLA_SERVER_MODEL_MANAGER_ROLLOUT_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "server/model_manager/rollout_policy.h"

namespace mivla::server {

struct VersionStatus {
  std::string version;     // PolicyRuntime::info().version
  std::string checkpoint;  // file name ("" for random init)
  ArmCounts counts;        // since the trial began, or since it became the incumbent when no trial runs
};

struct RolloutDecisionRecord {
  RolloutVerdict verdict = RolloutVerdict::kPending;  // kPromote or kRollback
  bool by_operator = false;                           // signal, method call or pin; else the test
  VersionStatus canary;
  VersionStatus incumbent;
  double p_value = 1.0;
  absl::Time time;
};

struct RolloutDecisionCounts {
  int64_t promoted_by_test = 0;
  int64_t rolled_back_by_test = 0;
  int64_t promoted_by_operator = 0;
  int64_t rolled_back_by_operator = 0;
};

struct RolloutStatus {
  std::string mode;                        // "latest" | "canary" | "pinned"
  std::optional<VersionStatus> incumbent;  // unset before the first version loads
  std::optional<VersionStatus> canary;     // unset when no trial runs
  RolloutOptions options;
  std::string pinned;                      // in mode "pinned"
  std::optional<RolloutDecisionRecord> last_decision;
  RolloutDecisionCounts decisions;
  int64_t retired_episodes = 0;            // episodes of sessions still on a retired version
  size_t rejected_checkpoints = 0;         // in the rollout state file
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_MODEL_MANAGER_ROLLOUT_STATUS_H_
