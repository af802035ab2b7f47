#include "server/inference/realtime_prefix.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace mivla::server {
namespace {

absl::Status OutOfRange(int k, int d, double v, double lo, double hi, const char* what) {
  return absl::InvalidArgumentError(absl::StrCat("committed_steps[", k, "].unified[", d, "]: ", v, " is outside [",
                                                 lo, ", ", hi, "] (", what, ")"));
}

}  // namespace

absl::Status ValidateCommittedSteps(uint32_t delay, const CommittedSteps& steps, int max_steps,
                                    const InputLimits& limits) {
  const int n = steps.size();
  if (n > max_steps) {
    return absl::InvalidArgumentError(absl::StrCat("committed_steps: ", n, " steps; at most the session's chunk length, ",
                                                   max_steps));
  }
  if (delay > static_cast<uint32_t>(n)) {
    return absl::InvalidArgumentError(absl::StrCat("inference_delay_steps: ", delay, " but committed_steps holds ", n,
                                                   " steps; the delay is at most their number"));
  }
  for (int k = 0; k < n; ++k) {
    const auto& u = steps[k].unified();
    if (u.size() != action::kActionDim) {
      return absl::InvalidArgumentError(absl::StrCat("committed_steps[", k, "].unified: ", u.size(),
                                                     " values; exactly ", action::kActionDim, " are required"));
    }
    for (int d = 0; d < action::kActionDim; ++d) {
      const double v = u[d];
      if (!std::isfinite(v)) {
        return absl::InvalidArgumentError(absl::StrCat("committed_steps[", k, "].unified[", d, "]: ", v, " is not finite"));
      }
      if (std::abs(v) > limits.max_unified_abs) {
        return OutOfRange(k, d, v, -limits.max_unified_abs, limits.max_unified_abs, "--max-unified-abs");
      }
    }
  }
  return absl::OkStatus();
}

ModelPrefix ToModelPrefix(uint32_t delay, const CommittedSteps& steps, double control_period_s,
                          double model_period_s, int horizon) {
  ModelPrefix out;
  const int n = steps.size();
  if (n == 0 || horizon <= 0) return out;
  const bool usable = control_period_s > 0 && std::isfinite(control_period_s) && model_period_s > 0 &&
                      std::isfinite(model_period_s);
  // Model periods per control period.
  const double ratio = usable ? model_period_s / control_period_s : 1.0;
  constexpr double kEps = 1e-9;
  // Clamped in double before the cast: a tiny ratio (a very long control period) must not overflow int.
  const int rows = static_cast<int>(std::min<double>(horizon, std::floor(n / ratio + kEps)));
  out.frozen_steps = static_cast<int>(std::min<double>(rows, std::floor(delay / ratio + kEps)));
  out.values.assign(static_cast<size_t>(std::max(rows, 0)) * action::kActionDim, 0.0f);
  for (int h = 0; h < rows; ++h) {
    // Committed-step index of the model step's time: (h + 1) model periods = (u + 1) control periods.
    const double u = std::clamp((h + 1) * ratio - 1.0, 0.0, static_cast<double>(n - 1));
    const int k0 = static_cast<int>(std::floor(u + kEps));
    const int k1 = std::min(k0 + 1, n - 1);
    const float w = static_cast<float>(std::max(0.0, u - k0));
    float* dst = out.values.data() + static_cast<size_t>(h) * action::kActionDim;
    for (int d = 0; d < action::kActionDim; ++d) {
      dst[d] = (1 - w) * steps[k0].unified(d) + w * steps[k1].unified(d);
    }
  }
  if (rows <= 0) out.frozen_steps = 0;
  return out;
}

}  // namespace mivla::server
