#include "trainer/train/data_mix.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/util/split_mix64.h"

namespace mivla::trainer {

SampleRng::SampleRng(uint64_t seed, uint64_t batch_index, uint64_t position)
    : state_(SplitMix64(SplitMix64(SplitMix64(seed) ^ batch_index) ^ position)) {}

uint64_t SampleRng::NextU64() {
  // The SplitMix64 generator: output i is the mix of seed + i * golden gamma (SplitMix64 adds one gamma).
  const uint64_t out = SplitMix64(state_);
  state_ += 0x9e3779b97f4a7c15ULL;
  return out;
}

double SampleRng::Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

uint64_t SampleRng::Below(uint64_t n) {
  if (n <= 1) return 0;
  // Rejection sampling: unbiased for any n.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = NextU64();
  } while (x >= limit);
  return x % n;
}

absl::StatusOr<DataMix> DataMix::Create(std::vector<double> weights, std::vector<std::vector<int>> frames,
                                        const std::vector<std::vector<std::vector<double>>>& frame_weights) {
  if (weights.empty()) return absl::InvalidArgumentError("data mix: no sources");
  if (weights.size() != frames.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("data mix: ", weights.size(), " weights for ", frames.size(), " sources"));
  }
  if (!frame_weights.empty() && frame_weights.size() != frames.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("data mix: frame weights for ", frame_weights.size(), " of ", frames.size(), " sources"));
  }
  DataMix mix;
  double total = 0;
  for (size_t s = 0; s < weights.size(); ++s) {
    if (!std::isfinite(weights[s]) || weights[s] <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("data mix: source ", s, " has weight ", weights[s], "; weights must be > 0"));
    }
    total += weights[s];
    std::vector<int64_t> ends;
    int64_t sum = 0;
    for (size_t e = 0; e < frames[s].size(); ++e) {
      if (frames[s][e] < 0) {
        return absl::InvalidArgumentError(absl::StrCat("data mix: source ", s, " episode ", e, " has ",
                                                       frames[s][e], " frames"));
      }
      sum += frames[s][e];
      ends.push_back(sum);
    }
    if (sum == 0) return absl::InvalidArgumentError(absl::StrCat("data mix: source ", s, " has no frames"));
    mix.frame_ends_.push_back(std::move(ends));
    std::vector<double> weight_ends;
    if (!frame_weights.empty() && !frame_weights[s].empty()) {
      if (frame_weights[s].size() != frames[s].size()) {
        return absl::InvalidArgumentError(absl::StrCat("data mix: source ", s, " has frame weights for ",
                                                       frame_weights[s].size(), " of ", frames[s].size(), " episodes"));
      }
      double acc = 0;
      for (size_t e = 0; e < frames[s].size(); ++e) {
        if (frame_weights[s][e].size() != static_cast<size_t>(frames[s][e])) {
          return absl::InvalidArgumentError(absl::StrCat("data mix: source ", s, " episode ", e, " has ",
                                                         frame_weights[s][e].size(), " frame weights for ",
                                                         frames[s][e], " frames"));
        }
        for (double w : frame_weights[s][e]) {
          if (!std::isfinite(w) || w <= 0) {
            return absl::InvalidArgumentError(
                absl::StrCat("data mix: source ", s, " episode ", e, " has frame weight ", w, "; weights must be > 0"));
          }
          acc += w;
          weight_ends.push_back(acc);
        }
      }
    }
    mix.weight_ends_.push_back(std::move(weight_ends));
  }
  double acc = 0;
  for (double w : weights) {
    acc += w / total;
    mix.cumulative_.push_back(acc);
  }
  mix.cumulative_.back() = 1.0;
  mix.weights_ = std::move(weights);
  return mix;
}

double DataMix::probability(int s) const { return s == 0 ? cumulative_[0] : cumulative_[s] - cumulative_[s - 1]; }

FrameRef DataMix::Draw(SampleRng* rng) const {
  FrameRef ref;
  const double u = rng->Uniform();
  ref.source = static_cast<int>(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
  ref.source = std::min(ref.source, num_sources() - 1);
  const std::vector<int64_t>& ends = frame_ends_[ref.source];
  const std::vector<double>& weight_ends = weight_ends_[ref.source];
  int64_t k;
  if (weight_ends.empty()) {
    k = static_cast<int64_t>(rng->Below(static_cast<uint64_t>(ends.back())));
  } else {
    const double w = rng->Uniform() * weight_ends.back();
    k = std::upper_bound(weight_ends.begin(), weight_ends.end(), w) - weight_ends.begin();
    k = std::min<int64_t>(k, ends.back() - 1);
  }
  // First episode whose end exceeds k (episodes with 0 frames have end == previous end and are skipped).
  ref.episode = static_cast<int>(std::upper_bound(ends.begin(), ends.end(), k) - ends.begin());
  ref.frame = static_cast<int>(k - (ref.episode == 0 ? 0 : ends[ref.episode - 1]));
  return ref;
}

}  // namespace mivla::trainer
