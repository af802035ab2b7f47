// File: rollout_policy.h
// RolloutPolicy: the rules of success-gated rollout (issue 14), free of loading and I/O so they can be
// tested alone; ModelManager applies them. While a canary (a new checkpoint) is in trial beside the
// incumbent:
//   - each NEW session is drawn for the canary with probability `canary_share` (a seeded Bernoulli draw:
//     randomised, so no kind of robot or start order is steered to one version), else the incumbent;
//   - once both versions have at least `min_episodes` reported episodes in the trial, the canary is
//     promoted unless its success rate is significantly below the incumbent's: a one-sided Fisher exact
//     test (fisher_exact.h) at level `alpha`; p < alpha rolls it back.
// Comparing against the incumbent's episodes of the same period (not its history) keeps the comparison
// fair when the mix of tasks or robots drifts.
//
//   ASSIGN_OR_RETURN(RolloutPolicy policy, RolloutPolicy::Create(options));
//   bool canary = policy.DrawCanary();
//   RolloutJudgement j = policy.Judge(canary_counts, incumbent_counts);  // kPending until enough episodes
//
// Thread-compatible: the caller serialises calls (ModelManager holds its mutex).
#ifndef MIVLA_SERVER_MODEL_MANAGER_ROLLOUT_POLICY_H_
#define MIVLA_SERVER_MODEL_MANAGER_ROLLOUT_POLICY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace mivla::server {

/// Rollout configuration (mivla-server flags in brackets).
struct RolloutOptions {
  double canary_share = 0;     // (0, 1]: canary mode; 0: off, the newest checkpoint serves [--canary-share]
  int64_t min_episodes = 20;   // episodes of each version before the test decides [--canary-min-episodes]
  double alpha = 0.05;         // level of the one-sided test, in (0, 1) [--canary-alpha]
  uint64_t seed = 0;           // session draws; 0: from the OS [--canary-seed]
  std::string state_dir;       // rejected / promoted checkpoints file; "": the model dir [--rollout-state-dir]
  std::string pin_version;     // serve this version (or file name) only, from the start [--pin-version]
  std::string pin_file;        // its first line pins, re-read at every scan; empty or absent: none [--pin-file]
};

/// One version's tally in a trial.
struct ArmCounts {
  int64_t sessions = 0;   // new sessions assigned
  int64_t episodes = 0;   // ReportEpisode calls of its sessions
  int64_t successes = 0;
};

enum class RolloutVerdict { kPending, kPromote, kRollback };

struct RolloutJudgement {
  RolloutVerdict verdict = RolloutVerdict::kPending;
  double p_value = 1.0;  // one-sided Fisher exact test, canary worse; computed even while pending
};

const char* RolloutVerdictName(RolloutVerdict v);  // "pending" | "promote" | "rollback"

class RolloutPolicy {
 public:
  /// INVALID_ARGUMENT naming the flag for a share outside [0, 1], min_episodes < 1, alpha outside (0, 1).
  static absl::StatusOr<RolloutPolicy> Create(const RolloutOptions& options);

  bool enabled() const { return options_.canary_share > 0; }
  const RolloutOptions& options() const { return options_; }
  /// One new session's draw: true = the canary.
  bool DrawCanary();
  /// The verdict for the counts so far.
  RolloutJudgement Judge(const ArmCounts& canary, const ArmCounts& incumbent) const;

 private:
  explicit RolloutPolicy(const RolloutOptions& options, uint64_t seed) : options_(options), state_(seed) {}
  RolloutOptions options_;
  uint64_t state_;  // SplitMix64 generator state
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_MODEL_MANAGER_ROLLOUT_POLICY_H_
