#include "core/action/normalizer.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace mivla::action {

NormalizationStats::NormalizationStats() {
  for (auto& per_e : stats_) per_e.fill(DimStats{});
}

const DimStats& NormalizationStats::stats(Embodiment e, int dim) const {
  return stats_[static_cast<int>(e)][dim];
}

void NormalizationStats::Affine(Embodiment e, int dim, double* offset, double* scale) const {
  const DimStats& s = stats(e, dim);
  if (IsRotationDim(dim) || s.count == 0) {
    *offset = 0.0;
    *scale = 1.0;
    return;
  }
  if (mode_ == NormalizationMode::kMinMax) {
    double half = 0.5 * (s.max - s.min);
    *offset = 0.5 * (s.max + s.min);
    *scale = half < min_spread_ ? 1.0 : half;
  } else {
    *offset = s.mean;
    *scale = s.std < min_spread_ ? 1.0 : s.std;
  }
}

void NormalizationStats::Normalize(Embodiment e, float* values, const ActionMask& mask) const {
  for (int i = 0; i < kActionDim; ++i) {
    if (!mask.test(i)) continue;
    double off, sc;
    Affine(e, i, &off, &sc);
    values[i] = static_cast<float>((values[i] - off) / sc);
  }
}

void NormalizationStats::Denormalize(Embodiment e, float* values, const ActionMask& mask) const {
  for (int i = 0; i < kActionDim; ++i) {
    if (!mask.test(i)) continue;
    double off, sc;
    Affine(e, i, &off, &sc);
    values[i] = static_cast<float>(values[i] * sc + off);
  }
}

bool NormalizationStats::operator==(const NormalizationStats& o) const {
  if (mode_ != o.mode_ || min_spread_ != o.min_spread_) return false;
  for (int e = 0; e < kNumEmbodiments; ++e) {
    for (int i = 0; i < kActionDim; ++i) {
      const DimStats& a = stats_[e][i];
      const DimStats& b = o.stats_[e][i];
      if (a.mean != b.mean || a.std != b.std || a.min != b.min || a.max != b.max || a.count != b.count)
        return false;
    }
  }
  return true;
}

std::string NormalizationStats::ToJson() const {
  nlohmann::json j;
  j["mode"] = mode_ == NormalizationMode::kMinMax ? "min_max" : "mean_std";
  j["min_spread"] = min_spread_;
  nlohmann::json per;
  for (Embodiment e : kAllEmbodiments) {
    nlohmann::json cols = {{"mean", nlohmann::json::array()}, {"std", nlohmann::json::array()},
                           {"min", nlohmann::json::array()},  {"max", nlohmann::json::array()},
                           {"count", nlohmann::json::array()}};
    for (int i = 0; i < kActionDim; ++i) {
      const DimStats& s = stats(e, i);
      cols["mean"].push_back(s.mean);
      cols["std"].push_back(s.std);
      cols["min"].push_back(s.min);
      cols["max"].push_back(s.max);
      cols["count"].push_back(s.count);
    }
    per[std::string(EmbodimentName(e))] = std::move(cols);
  }
  j["embodiments"] = std::move(per);
  return j.dump();
}

absl::StatusOr<NormalizationStats> NormalizationStats::FromJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("normalization stats: not a JSON object");
  }
  NormalizationStats out;
  if (!j.contains("mode") || !j["mode"].is_string()) {
    return absl::InvalidArgumentError("normalization stats: missing field 'mode'");
  }
  const std::string mode = j["mode"];
  if (mode == "min_max") {
    out.mode_ = NormalizationMode::kMinMax;
  } else if (mode == "mean_std") {
    out.mode_ = NormalizationMode::kMeanStd;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("normalization stats: unknown mode '", mode, "'"));
  }
  if (j.contains("min_spread") && j["min_spread"].is_number()) out.min_spread_ = j["min_spread"];
  if (!j.contains("embodiments") || !j["embodiments"].is_object()) {
    return absl::InvalidArgumentError("normalization stats: missing field 'embodiments'");
  }
  for (Embodiment e : kAllEmbodiments) {
    const std::string name(EmbodimentName(e));
    if (!j["embodiments"].contains(name)) continue;  // identity for an embodiment never seen
    const nlohmann::json& cols = j["embodiments"][name];
    for (const char* key : {"mean", "std", "min", "max", "count"}) {
      if (!cols.contains(key) || !cols[key].is_array() || cols[key].size() != kActionDim) {
        return absl::InvalidArgumentError(absl::StrCat("normalization stats: embodiments.", name, ".",
                                                       key, " must be an array of ", kActionDim,
                                                       " numbers"));
      }
      for (const auto& v : cols[key]) {
        if (!v.is_number()) {
          return absl::InvalidArgumentError(
              absl::StrCat("normalization stats: embodiments.", name, ".", key, " holds a non-number"));
        }
      }
    }
    for (int i = 0; i < kActionDim; ++i) {
      DimStats& s = out.stats_[static_cast<int>(e)][i];
      s.mean = cols["mean"][i];
      s.std = cols["std"][i];
      s.min = cols["min"][i];
      s.max = cols["max"][i];
      s.count = cols["count"][i];
    }
  }
  return out;
}

NormalizationStatsBuilder::NormalizationStatsBuilder(NormalizationMode mode, double min_spread)
    : mode_(mode), min_spread_(min_spread) {}

void NormalizationStatsBuilder::Add(Embodiment e, const float* values, const ActionMask& mask) {
  auto& acc = acc_[static_cast<int>(e)];
  for (int i = 0; i < kActionDim; ++i) {
    if (!mask.test(i) || !std::isfinite(values[i])) continue;
    Acc& a = acc[i];
    double x = values[i];
    if (a.n == 0) {
      a.min = a.max = x;
    } else {
      a.min = std::min(a.min, x);
      a.max = std::max(a.max, x);
    }
    ++a.n;
    double d = x - a.mean;
    a.mean += d / static_cast<double>(a.n);
    a.m2 += d * (x - a.mean);
  }
}

NormalizationStats NormalizationStatsBuilder::Build() const {
  NormalizationStats out;
  out.mode_ = mode_;
  out.min_spread_ = min_spread_;
  for (int e = 0; e < kNumEmbodiments; ++e) {
    for (int i = 0; i < kActionDim; ++i) {
      const Acc& a = acc_[e][i];
      DimStats& s = out.stats_[e][i];
      if (a.n == 0) continue;
      s.count = a.n;
      s.mean = a.mean;
      s.std = a.n > 1 ? std::sqrt(a.m2 / static_cast<double>(a.n - 1)) : 0.0;
      s.min = a.min;
      s.max = a.max;
    }
  }
  return out;
}

}  // namespace mivla::action
