// File: server_bench_bare.h
// mivla-bench-server's reference point: the model's own encode + decode of one sample shaped like the
// first session's observation (piper: two camera views of max_views, the instruction padded to
// max_tokens), as the server would run it, and of 16 copies in one batch; no server, no queueing. The
// only LibTorch code of the benchmark (its own library, so the rest of it stays torch-free).
#ifndef MIVLA_BENCH_SERVER_BENCH_BARE_H_
#define MIVLA_BENCH_SERVER_BENCH_BARE_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace mivla::bench {

/// JSON: bare_decode_ms (median encode + sampler, batch 1), bare_encode_only_ms, bare_sampler_only_ms,
/// bare_batch16_ms, views, text_tokens, repeats. Random weights of `config` (seed 1).
absl::StatusOr<nlohmann::json> MeasureBare(const std::string& config, const std::string& tokenizer_file,
                                           const std::string& instruction, int repeats);

/// LibTorch's intra-op thread count.
int TorchThreads();

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_BARE_H_
