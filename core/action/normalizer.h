// File: normalizer.h
// Per-embodiment, per-slice normalisation statistics of the 76-value action (and of proprioception,
// which shares the layout). Statistics are computed from data with NormalizationStatsBuilder, stored
// as JSON inside checkpoints, applied before training and inverted on the server.
//
//   NormalizationStatsBuilder b;
//   for (const auto& sample : data) b.Add(sample.embodiment, sample.action.data(), sample.mask);
//   NormalizationStats stats = b.Build();
//   stats.Normalize(Embodiment::kPiper, action, mask);   // in place
//   stats.Denormalize(Embodiment::kPiper, action, mask); // exact inverse on the masked slots
//
// Mode kMinMax maps [min, max] to [-1, 1] (H-RDT's choice); kMeanStd gives zero mean, unit variance.
// Rotation dimensions (6D, quaternions) are already bounded and pass through unchanged. Dimensions never
// seen for an embodiment, or with a spread below `min_spread`, are shifted but not scaled.
// Thread-safety: const methods are safe to call concurrently; the builder is not thread-safe.
#ifndef MIVLA_CORE_ACTION_NORMALIZER_H_
#define MIVLA_CORE_ACTION_NORMALIZER_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"

namespace mivla::action {

enum class NormalizationMode { kMinMax, kMeanStd };

struct DimStats {
  double mean = 0.0;
  double std = 1.0;
  double min = -1.0;
  double max = 1.0;
  int64_t count = 0;
};

class NormalizationStats {
 public:
  /// Identity statistics (every dimension passes through unchanged).
  NormalizationStats();

  void Normalize(Embodiment e, float* values, const ActionMask& mask) const;
  void Denormalize(Embodiment e, float* values, const ActionMask& mask) const;
  /// Scale and offset such that normalized = (raw - offset) / scale, for each dimension.
  void Affine(Embodiment e, int dim, double* offset, double* scale) const;

  const DimStats& stats(Embodiment e, int dim) const;
  NormalizationMode mode() const { return mode_; }

  std::string ToJson() const;
  /// Errors name the missing or malformed field.
  static absl::StatusOr<NormalizationStats> FromJson(const std::string& json);

  bool operator==(const NormalizationStats& other) const;

 private:
  friend class NormalizationStatsBuilder;
  NormalizationMode mode_ = NormalizationMode::kMinMax;
  double min_spread_ = 1e-6;
  std::array<std::array<DimStats, kActionDim>, kNumEmbodiments> stats_;
};

class NormalizationStatsBuilder {
 public:
  explicit NormalizationStatsBuilder(NormalizationMode mode = NormalizationMode::kMinMax,
                                     double min_spread = 1e-6);
  /// Adds one 76-value vector; only masked, finite values count.
  void Add(Embodiment e, const float* values, const ActionMask& mask);
  NormalizationStats Build() const;

 private:
  struct Acc {
    int64_t n = 0;
    double mean = 0.0, m2 = 0.0;  // Welford
    double min = 0.0, max = 0.0;
  };
  NormalizationMode mode_;
  double min_spread_;
  std::array<std::array<Acc, kActionDim>, kNumEmbodiments> acc_{};
};

}  // namespace mivla::action

#endif  // MIVLA_CORE_ACTION_NORMALIZER_H_
