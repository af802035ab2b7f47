// File: data_mix.h
// Deterministic sampling of training frames from a weighted mix of sources. Every sample of every batch
// has its own generator, seeded by (seed, batch index, position in the global batch), so what a sample
// draws depends on nothing else: not on the worker that builds it, the rank, or what came before.
// A sample first draws a source with probability weight / sum(weights), then a frame among the source's
// drawable frames: uniformly (so longer episodes give proportionally more samples), or, where frame
// weights are given (grasp_weights.h), in proportion to them.
//
//   DataMix mix = *DataMix::Create({2.0, 1.0}, {{40, 35}, {120}});
//   SampleRng rng(seed, batch_index, position);
//   FrameRef ref = mix.Draw(&rng);  // {source, episode, frame}
//
// Thread-safety: DataMix is immutable after Create (const methods are safe concurrently); a SampleRng is
// not thread-safe (one per sample).
#ifndef MIVLA_TRAINER_TRAIN_DATA_MIX_H_
#define MIVLA_TRAINER_TRAIN_DATA_MIX_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace mivla::trainer {

/// SplitMix64-based generator; the same numbers on every platform (no std:: distributions).
class SampleRng {
 public:
  SampleRng(uint64_t seed, uint64_t batch_index, uint64_t position);
  explicit SampleRng(uint64_t state) : state_(state) {}
  uint64_t NextU64();
  /// Uniform in [0, 1).
  double Uniform();
  /// Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  /// Uniform integer in [0, n); n >= 1.
  uint64_t Below(uint64_t n);

 private:
  uint64_t state_;
};

struct FrameRef {
  int source = 0;
  int episode = 0;  // index within the source
  int frame = 0;    // observation frame within the episode
};

class DataMix {
 public:
  /// weights[s] > 0 and finite; frames[s][e] >= 0 drawable frames of episode e of source s; every source
  /// needs at least one drawable frame. Errors name the source index.
  /// frame_weights: empty, or per source: empty (uniform) or per episode the weights of its drawable
  /// frames (frame_weights[s][e].size() == frames[s][e], each > 0 and finite). A source without frame
  /// weights draws exactly as it would without the argument.
  static absl::StatusOr<DataMix> Create(std::vector<double> weights, std::vector<std::vector<int>> frames,
                                        const std::vector<std::vector<std::vector<double>>>& frame_weights = {});

  FrameRef Draw(SampleRng* rng) const;
  int num_sources() const { return static_cast<int>(weights_.size()); }
  /// Probability of drawing source s.
  double probability(int s) const;

 private:
  std::vector<double> weights_;
  std::vector<double> cumulative_;                // normalised cumulative weights, back() == 1
  std::vector<std::vector<int64_t>> frame_ends_;  // per source: cumulative frame counts per episode
  std::vector<std::vector<double>> weight_ends_;  // per source: cumulative frame weights over all its frames
                                                  // in episode order; empty = uniform
};

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_DATA_MIX_H_
