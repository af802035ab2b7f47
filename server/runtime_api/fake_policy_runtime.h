// File: fake_policy_runtime.h
// A PolicyRuntime without a model, for fast server tests: chunks are a deterministic function of the
// observation (its images' mean intensity, its state, instruction and embodiment), the seed and the
// version's offset, so tests can tell versions, seeds and observations apart; encode and decode can
// take a configured time per batch; a version can be made to fail at load, warm-up, encode or decode,
// or to answer non-finite values. An item with an executed prefix (real-time chunking) gets exactly the
// prefix in its frozen rows and a blend towards the rest with the guided sampler's decaying weight.
//
// FakeRuntimeLoader reads "checkpoints" that are small JSON files of FakeRuntimeOptions fields, e.g.
//   {"version": "v2", "offset": 0.5, "decode_latency_ms": 20, "fail": "warm"}
// ("fail": "load" | "warm" | "encode" | "decode" | "non_finite"); a file that is not such JSON fails to
// load, naming the file. Random init gives "random-init-<config>-seed<seed>" with the tiny model's
// shapes (horizon 16, 10 Hz, 3 views of 56 px).
//
// Thread-safety: FakePolicyRuntime is immutable apart from atomic counters; FakeRuntimeLoader::Load may
// be called from any thread.
#ifndef MIVLA_SERVER_RUNTIME_API_FAKE_POLICY_RUNTIME_H_
#define MIVLA_SERVER_RUNTIME_API_FAKE_POLICY_RUNTIME_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/runtime_api/policy_runtime.h"
#include "server/runtime_api/runtime_loader.h"

namespace mivla::server {

struct FakeRuntimeOptions {
  std::string version = "fake";
  std::string config_name = "tiny";
  int action_horizon = 16;
  int sampling_steps = 5;
  double control_rate_hz = 10.0;
  int max_views = 3;
  int image_size = 56;
  double offset = 0.0;                               // added to every chunk value
  absl::Duration encode_latency = absl::ZeroDuration();  // per Encode call
  absl::Duration decode_latency = absl::ZeroDuration();  // per Decode call
  std::string fail;                                  // "", "load", "warm", "encode", "decode", "non_finite"
};

class FakePolicyRuntime : public PolicyRuntime {
 public:
  explicit FakePolicyRuntime(FakeRuntimeOptions options);

  const RuntimeInfo& info() const override { return info_; }
  std::vector<absl::StatusOr<ConditionPtr>> Encode(absl::Span<const RuntimeObservation* const> batch) const override;
  std::vector<absl::StatusOr<ChunkValues>> Decode(absl::Span<const DecodeItem> batch) const override;
  absl::Status Warm(int max_batch_size) const override;

  const FakeRuntimeOptions& options() const { return options_; }
  int64_t encode_calls() const { return encode_calls_.load(); }
  int64_t decode_calls() const { return decode_calls_.load(); }
  /// The largest batch Encode / Decode was handed.
  int64_t max_encode_batch() const { return max_encode_batch_.load(); }
  int64_t max_decode_batch() const { return max_decode_batch_.load(); }

 private:
  const FakeRuntimeOptions options_;
  RuntimeInfo info_;
  mutable std::atomic<int64_t> encode_calls_{0}, decode_calls_{0}, max_encode_batch_{0}, max_decode_batch_{0};
};

class FakeRuntimeLoader : public RuntimeLoader {
 public:
  /// `defaults` fills what a checkpoint file (or random init) does not set.
  explicit FakeRuntimeLoader(FakeRuntimeOptions defaults = {}) : defaults_(std::move(defaults)) {}
  absl::StatusOr<std::unique_ptr<PolicyRuntime>> Load(const RuntimeSource& source) const override;
  /// Load calls so far (failed ones included).
  int64_t loads() const { return loads_.load(); }

 private:
  const FakeRuntimeOptions defaults_;
  mutable std::atomic<int64_t> loads_{0};
};

/// The JSON text of a fake checkpoint for `version` with extra fields, e.g. FakeCheckpoint("v2", R"("offset": 1)").
std::string FakeCheckpoint(const std::string& version, const std::string& extra_fields = "");

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_API_FAKE_POLICY_RUNTIME_H_
