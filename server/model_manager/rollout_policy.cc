#include "server/model_manager/rollout_policy.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/util/split_mix64.h"
#include "server/model_manager/fisher_exact.h"

namespace mivla::server {

const char* RolloutVerdictName(RolloutVerdict v) {
  switch (v) {
    case RolloutVerdict::kPromote:
      return "promote";
    case RolloutVerdict::kRollback:
      return "rollback";
    case RolloutVerdict::kPending:
      break;
  }
  return "pending";
}

absl::StatusOr<RolloutPolicy> RolloutPolicy::Create(const RolloutOptions& o) {
  if (!(o.canary_share >= 0 && o.canary_share <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--canary-share: ", o.canary_share,
                                                   " is not a share in [0, 1] (0: no canaries)"));
  }
  if (o.min_episodes < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--canary-min-episodes: ", o.min_episodes, " must be >= 1"));
  }
  if (!(o.alpha > 0 && o.alpha < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--canary-alpha: ", o.alpha, " is not a level in (0, 1)"));
  }
  if (!o.pin_version.empty() && !o.pin_file.empty()) {
    return absl::InvalidArgumentError("--pin-version and --pin-file: give one (the pin file is re-read at every scan)");
  }
  uint64_t seed = o.seed;
  if (seed == 0) seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  return RolloutPolicy(o, seed);
}

bool RolloutPolicy::DrawCanary() {
  const uint64_t bits = SplitMix64(state_);  // the SplitMix64 generator: mix, then advance
  state_ += 0x9e3779b97f4a7c15ull;
  const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  return u < options_.canary_share;
}

RolloutJudgement RolloutPolicy::Judge(const ArmCounts& canary, const ArmCounts& incumbent) const {
  RolloutJudgement j;
  j.p_value = OneSidedFisherLessP(canary.successes, canary.episodes, incumbent.successes, incumbent.episodes);
  if (canary.episodes < options_.min_episodes || incumbent.episodes < options_.min_episodes) return j;
  j.verdict = j.p_value < options_.alpha ? RolloutVerdict::kRollback : RolloutVerdict::kPromote;
  return j;
}

}  // namespace mivla::server
