// File: flop_count.h
// Analytic floating-point operation counts of MiVLA per sample, from the configuration alone (a multiply
// and an add count as 2 FLOPs; only matrix products are counted: norms, softmax and activations are
// small beside them). Used by benchmarks to report achieved GFLOP/s. Pure functions; thread-safe.
#ifndef MIVLA_CORE_MODEL_FLOP_COUNT_H_
#define MIVLA_CORE_MODEL_FLOP_COUNT_H_

#include <cstdint>

#include "core/model/model_config.h"

namespace mivla::model {

struct FlopCount {
  double vision_per_view = 0;   // both ViTs + their projections, one camera view
  double text = 0;              // T5 + projection for `text_tokens` tokens
  double prefix = 0;            // proprioception MLPs
  double decode_context = 0;    // cross-attention K/V projections, once per request
  double decode_step = 0;       // one Euler step of the DiT
  double decode_total = 0;      // decode_context + K * decode_step
  double encode_total = 0;      // views * vision_per_view + text + prefix
};

/// Counts for one sample with `views` camera views and `text_tokens` instruction tokens.
FlopCount CountFlops(const ModelConfig& config, int views, int text_tokens);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_FLOP_COUNT_H_
