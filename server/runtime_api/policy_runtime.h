// File: policy_runtime.h
// PolicyRuntime: the one seam between the server and a model (after TF Serving's Servable). The server
// (sessions, batching, the engine, the model manager, the gRPC layer) sees only this header: parsed,
// torch-free observations go in, opaque condition handles come back; handles plus seeds go in, action
// chunks in the model's unified 76-value action space (de-normalised, physical units) come back.
// Implementations: the LibTorch runtime (server/runtime/, the only server folder that includes
// LibTorch or core/model headers) and a fake (fake_policy_runtime.h) for fast server tests.
//
//   std::vector<absl::StatusOr<ConditionPtr>> conds = runtime->Encode({&obs_a, &obs_b});
//   std::vector<absl::StatusOr<ChunkValues>> chunks = runtime->Decode({{cond_a, seed_a}, {cond_b, seed_b}});
//
// Batches: every item of a batch gets its own status (a bad input fails alone; a model failure fails
// every item with the same status). An item's result does not depend on its batch-mates (each chunk
// draws its noise from its own seed). Handles are only meaningful to the runtime instance that made
// them (ConditionHandle::runtime_instance() == instance()); the server re-encodes older ones.
//
// Thread-safety: implementations are immutable after loading, except internally locked caches, so
// Encode, Decode, Warm and the accessors may be called concurrently from any thread. A runtime is
// shared (std::shared_ptr<const PolicyRuntime>) by every call that runs on it; it is freed, with its
// weights, when the last holder lets go.
#ifndef MIVLA_SERVER_RUNTIME_API_POLICY_RUNTIME_H_
#define MIVLA_SERVER_RUNTIME_API_POLICY_RUNTIME_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/action/action_space.h"

namespace mivla::server {

/// One camera image, in one of two forms:
/// - decoded: RGB8, row-major, 3 bytes per pixel, already resized by the server to the runtime's square
///   input side (RuntimeInfo::image_size);
/// - JPEG, for a runtime that decodes and resizes images itself (RuntimeInfo::decodes_jpeg): `jpeg` holds
///   the bytes as received (their header checked), width x height their size; `rgb` is empty.
struct RuntimeImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3 bytes
  std::string jpeg;
};

/// One validated observation of one session, as the server parsed it. Immutable once built; sessions
/// keep it so a newer model version can re-encode it without the robot re-sending images.
struct RuntimeObservation {
  action::Embodiment embodiment = action::Embodiment::kPiper;
  std::vector<RuntimeImage> images;                  // in the session's camera order
  std::string instruction;                           // the instruction in force
  std::array<float, action::kActionDim> state{};     // proprioception as received (unnormalised), 0 outside the mask
  action::ActionMask state_mask;                     // the slots that carry information
};

/// What a runtime made of one observation (its condition tokens, for the LibTorch runtime). Opaque to
/// the server; immutable; shared between the session and in-flight Act calls.
class ConditionHandle {
 public:
  virtual ~ConditionHandle() = default;
  /// PolicyRuntime::instance() of the runtime that made it.
  virtual uint64_t runtime_instance() const = 0;
  virtual action::Embodiment embodiment() const = 0;
};
using ConditionPtr = std::shared_ptr<const ConditionHandle>;

/// One chunk to sample.
struct DecodeItem {
  ConditionPtr condition;  // made by the runtime that decodes it
  uint64_t seed = 1;       // the chunk's noise comes from this seed alone
  /// Real-time chunking (issue 14): the robot's committed actions at the model's steps, row-major
  /// steps x kActionDim unified values in the same units and step timing as ChunkValues (row h: the
  /// state wanted at observation time + (h + 1) model periods), at most the horizon's rows. Its first
  /// `frozen_steps` rows are executed while the chunk is computed: the runtime samples the chunk so its
  /// first steps match them (inpainting guidance, core/model/guided_sampling.h); the later rows are the
  /// robot's remaining plan, followed with a decaying weight. Only the condition's embodiment slots are
  /// guided. Empty: plain sampling.
  std::vector<float> executed_prefix;
  int frozen_steps = 0;  // in [0, rows of executed_prefix]
};

/// A sampled chunk: `horizon` steps of kActionDim de-normalised unified values, row-major. Step h is the
/// state wanted at observation time + (h + 1) model periods (1 / RuntimeInfo::control_rate_hz).
struct ChunkValues {
  int horizon = 0;
  std::vector<float> values;
};

/// What the server needs to know about a model version.
struct RuntimeInfo {
  std::string version;                     // the checkpoint's model version (shown to clients)
  std::string config_name;                 // e.g. "tiny", "base"
  std::string config_json;                 // the full configuration, for GetPolicyInfo
  int action_horizon = 16;                 // H model steps per chunk
  int sampling_steps = 5;                  // K Euler steps per chunk
  double control_rate_hz = 10.0;           // the model's step rate
  int max_views = 3;                       // cameras per observation it takes
  int image_size = 56;                     // side of the square RGB images it takes
  std::vector<action::Embodiment> embodiments;  // it serves
  std::string device;                      // where it runs, e.g. "cpu", "cuda:0"
  bool decodes_jpeg = false;               // takes JPEG images as received (RuntimeImage::jpeg)
};

class PolicyRuntime {
 public:
  PolicyRuntime();
  virtual ~PolicyRuntime() = default;
  PolicyRuntime(const PolicyRuntime&) = delete;
  PolicyRuntime& operator=(const PolicyRuntime&) = delete;

  virtual const RuntimeInfo& info() const = 0;
  /// One result per observation, in order. INVALID_ARGUMENT (naming the field) for an observation this
  /// version cannot take (too many views, a JPEG image that does not decode: "images[1].data: ...");
  /// FAILED_PRECONDITION for decoded images of another size, or JPEG images for a runtime that does not
  /// decode them.
  virtual std::vector<absl::StatusOr<ConditionPtr>> Encode(
      absl::Span<const RuntimeObservation* const> batch) const = 0;
  /// One result per item, in order. INVALID_ARGUMENT for a handle of another runtime instance.
  virtual std::vector<absl::StatusOr<ChunkValues>> Decode(absl::Span<const DecodeItem> batch) const = 0;
  /// Encodes and decodes synthetic inputs at batch 1 and `max_batch_size` so the first request pays no
  /// one-time costs; an error (or a non-finite chunk) means this version must not serve.
  virtual absl::Status Warm(int max_batch_size) const = 0;

  /// Unique per runtime object in this process (never reused), so handles can name their maker.
  uint64_t instance() const { return instance_; }

 private:
  const uint64_t instance_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_API_POLICY_RUNTIME_H_
