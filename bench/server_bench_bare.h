// File: server_bench_bare.h
// mivla-bench-server's reference point: the model's own encode + decode of one sample shaped like the
// first session's observation (piper: two camera views of max_views, the instruction padded to
// max_tokens), as the server would run it, and of 16 copies in one batch; no server, no queueing. The
// only LibTorch code of the benchmark (its own library, so the rest of it stays torch-free).
// BareModel keeps one such model to time single calls (the paired one-robot row, server_bench_paired.h).
// Thread safety: a BareModel is used from one thread at a time.
#ifndef MIVLA_BENCH_SERVER_BENCH_BARE_H_
#define MIVLA_BENCH_SERVER_BENCH_BARE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/server_bench_paired.h"
#include "nlohmann/json.hpp"

namespace mivla::bench {

/// The random-init model of a configuration (seed 1) with the first session's inputs, batch 1 or 16.
class BareModel {
 public:
  /// INVALID_ARGUMENT for an unknown config; the tokenizer's error prefixed with "--tokenizer: ".
  static absl::StatusOr<std::unique_ptr<BareModel>> Create(const std::string& config, const std::string& tokenizer_file,
                                                           const std::string& instruction);
  ~BareModel();
  BareModel(const BareModel&) = delete;
  BareModel& operator=(const BareModel&) = delete;

  /// One encode + sampler call on `batch` copies of the sample (1 or 16), noise from `seed`; INTERNAL
  /// when the actions are not finite.
  absl::StatusOr<BareCall> Time(int batch, int seed);  // BareCall: server_bench_paired.h

  int views() const;
  int text_tokens() const;

 private:
  struct State;
  explicit BareModel(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// JSON: bare_decode_ms (median encode + sampler, batch 1), bare_encode_only_ms, bare_sampler_only_ms,
/// bare_batch16_ms, views, text_tokens, repeats, measured on `bare`.
absl::StatusOr<nlohmann::json> MeasureBare(BareModel& bare, int repeats);

/// LibTorch's intra-op thread count.
int TorchThreads();

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_BARE_H_
