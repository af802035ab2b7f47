// File: eta.cc
#include "trainer/ablation/eta.h"

#include "absl/strings/str_format.h"

namespace mivla::trainer::ablation {

std::string EtaModel::Key(StageKind kind) { return StageKindName(kind); }

void EtaModel::AddFinished(const Stage& stage, double seconds) {
  if (stage.units <= 0 || seconds <= 0) return;
  auto& [s, u] = sums_[Key(stage.kind)];
  s += seconds;
  u += static_cast<double>(stage.units);
}

void EtaModel::SetRunning(const Stage& stage, double fraction, double seconds) {
  if (stage.units <= 0 || fraction <= 0.02 || seconds <= 0) {
    running_.reset();
    return;
  }
  running_ = Running{Key(stage.kind), seconds, fraction * static_cast<double>(stage.units)};
}

std::optional<double> EtaModel::Rate(StageKind kind) const {
  auto rate_of = [&](const std::string& key) -> std::optional<double> {
    double s = 0, u = 0;
    if (auto it = sums_.find(key); it != sums_.end()) s += it->second.first, u += it->second.second;
    if (running_ && running_->key == key) s += running_->seconds, u += running_->units;
    if (u <= 0) return std::nullopt;
    return s / u;
  };
  std::optional<double> r = rate_of(Key(kind));
  if (!r && kind == StageKind::kPretrain) r = rate_of("finetune");
  if (!r && kind == StageKind::kFinetune) r = rate_of("pretrain");
  return r;
}

std::optional<double> EtaModel::Remaining(const Stage& stage, double fraction) const {
  if (stage.kind == StageKind::kReport) return 1.0;
  std::optional<double> r = Rate(stage.kind);
  if (!r) return std::nullopt;
  const double left = std::max(0.0, 1.0 - std::max(0.0, fraction));
  return *r * static_cast<double>(stage.units) * left;
}

std::string FormatSeconds(double s) {
  const int t = static_cast<int>(s + 0.5);
  if (t >= 3600) return absl::StrFormat("%dh%02dm", t / 3600, t / 60 % 60);
  if (t >= 60) return absl::StrFormat("%dm%02ds", t / 60, t % 60);
  return absl::StrFormat("%ds", t);
}

}  // namespace mivla::trainer::ablation
