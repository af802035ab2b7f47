// File: eta.h
// Time estimates for the ablation's progress lines and progress.json: seconds per unit (data and eval:
// per episode; training: per step, by kind, falling back to the other training kind) learnt from
// finished stages and from the running one; a stage with no rate to go by is "not estimated".
// Thread-compatible.
#ifndef MIVLA_TRAINER_ABLATION_ETA_H_
#define MIVLA_TRAINER_ABLATION_ETA_H_

#include <map>
#include <optional>
#include <string>

#include "trainer/ablation/stage_plan.h"

namespace mivla::trainer::ablation {

class EtaModel {
 public:
  /// A finished stage took `seconds` for its `units`.
  void AddFinished(const Stage& stage, double seconds);
  /// The running stage has done `fraction` (0..1) of its units in `seconds`. Both count every call's
  /// work on the stage: a stage resumed at 60% passes its earlier calls' seconds too.
  void SetRunning(const Stage& stage, double fraction, double seconds);
  void ClearRunning() { running_.reset(); }

  /// Seconds the stage still needs, having done `fraction` of it; nullopt when not estimable.
  std::optional<double> Remaining(const Stage& stage, double fraction) const;

 private:
  static std::string Key(StageKind kind);
  std::optional<double> Rate(StageKind kind) const;

  std::map<std::string, std::pair<double, double>> sums_;  // key -> (seconds, units)
  struct Running {
    std::string key;
    double seconds = 0, units = 0;
  };
  std::optional<Running> running_;
};

/// "45s", "12m05s", "3h20m".
std::string FormatSeconds(double s);

}  // namespace mivla::trainer::ablation

#endif  // MIVLA_TRAINER_ABLATION_ETA_H_
