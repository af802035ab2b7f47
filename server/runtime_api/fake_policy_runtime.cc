#include "server/runtime_api/fake_policy_runtime.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/util/atomic_extremes.h"
#include "core/util/read_file.h"
#include "core/util/split_mix64.h"
#include "nlohmann/json.hpp"

namespace mivla::server {
namespace {

constexpr char kFakeConfigJson[] = "fake";

// The fake's condition: one number per unified slot, summarising the observation.
class FakeCondition : public ConditionHandle {
 public:
  FakeCondition(uint64_t instance, action::Embodiment e, std::array<float, action::kActionDim> features)
      : instance_(instance), embodiment_(e), features_(features) {}
  uint64_t runtime_instance() const override { return instance_; }
  action::Embodiment embodiment() const override { return embodiment_; }
  const std::array<float, action::kActionDim>& features() const { return features_; }

 private:
  const uint64_t instance_;
  const action::Embodiment embodiment_;
  const std::array<float, action::kActionDim> features_;
};

double MeanIntensity(const RuntimeImage& im) {
  if (im.rgb.empty()) return 0.0;
  double sum = 0;
  for (uint8_t b : im.rgb) sum += b;
  return sum / (255.0 * static_cast<double>(im.rgb.size()));
}

// Real-time chunking, exactly: the frozen rows become the prefix, the later prefix rows blend towards it
// with the guided sampler's soft weight (1 .. 0, exponential decay as core/model/guided_sampling.h).
void Inpaint(const DecodeItem& item, const action::ActionMask& mask, ChunkValues* c) {
  const int rows = std::min(c->horizon, static_cast<int>(item.executed_prefix.size() / action::kActionDim));
  const int d = std::clamp(item.frozen_steps, 0, rows);
  for (int s = 0; s < rows; ++s) {
    double w = 1.0;
    if (s >= d) {
      const double ci = static_cast<double>(rows - s) / (rows - d + 1);
      w = ci * (std::exp(ci) - 1.0) / (std::exp(1.0) - 1.0);
    }
    for (int k = 0; k < action::kActionDim; ++k) {
      if (!mask.test(k)) continue;
      float& v = c->values[static_cast<size_t>(s) * action::kActionDim + k];
      v = static_cast<float>(w * item.executed_prefix[static_cast<size_t>(s) * action::kActionDim + k] + (1 - w) * v);
    }
  }
}

absl::Status Fail(const FakeRuntimeOptions& o, const char* stage) {
  return absl::InternalError(absl::StrCat("fake runtime version ", o.version, ": ", stage, " fails (configured)"));
}

}  // namespace

FakePolicyRuntime::FakePolicyRuntime(FakeRuntimeOptions options) : options_(std::move(options)) {
  info_.version = options_.version;
  info_.config_name = options_.config_name;
  info_.config_json = nlohmann::json{{"name", options_.config_name},
                                     {"runtime", kFakeConfigJson},
                                     {"max_views", options_.max_views},
                                     {"control_rate_hz", options_.control_rate_hz},
                                     {"image_size", options_.image_size},
                                     {"decoder",
                                      {{"action_horizon", options_.action_horizon},
                                       {"sampling_steps", options_.sampling_steps}}}}
                          .dump();
  info_.action_horizon = options_.action_horizon;
  info_.sampling_steps = options_.sampling_steps;
  info_.control_rate_hz = options_.control_rate_hz;
  info_.max_views = options_.max_views;
  info_.image_size = options_.image_size;
  info_.embodiments.assign(action::kAllEmbodiments.begin(), action::kAllEmbodiments.end());
  info_.device = "fake";
}

std::vector<absl::StatusOr<ConditionPtr>> FakePolicyRuntime::Encode(
    absl::Span<const RuntimeObservation* const> batch) const {
  ++encode_calls_;
  AtomicMax<int64_t>(&max_encode_batch_, static_cast<int64_t>(batch.size()));
  if (options_.encode_latency > absl::ZeroDuration()) absl::SleepFor(options_.encode_latency);
  std::vector<absl::StatusOr<ConditionPtr>> out;
  out.reserve(batch.size());
  for (const RuntimeObservation* obs : batch) {
    if (options_.fail == "encode") {
      out.push_back(Fail(options_, "encode"));
      continue;
    }
    if (static_cast<int>(obs->images.size()) > options_.max_views) {
      out.push_back(absl::InvalidArgumentError(absl::StrCat("images: ", obs->images.size(), " views; model version ",
                                                            options_.version, " takes at most ", options_.max_views)));
      continue;
    }
    double mean = 0;
    bool sized = true;
    for (const RuntimeImage& im : obs->images) {
      sized = sized && im.width == options_.image_size && im.height == options_.image_size &&
              im.rgb.size() == static_cast<size_t>(im.width) * im.height * 3;
      mean += MeanIntensity(im) / static_cast<double>(obs->images.size());
    }
    if (!sized) {
      out.push_back(absl::FailedPreconditionError(
          absl::StrCat("observation images are not ", options_.image_size, "x", options_.image_size,
                       " RGB8 as model version ", options_.version, " takes; send a new observation")));
      continue;
    }
    const double text = static_cast<double>(std::hash<std::string>()(obs->instruction) % 1000) / 1000.0;
    std::array<float, action::kActionDim> f{};
    for (int d = 0; d < action::kActionDim; ++d) {
      const float state = obs->state_mask.test(d) ? obs->state[d] : 0.0f;
      f[d] = static_cast<float>(0.5 * state + 0.1 * mean + 0.01 * text +
                                0.001 * static_cast<int>(obs->embodiment));
    }
    out.push_back(std::make_shared<FakeCondition>(instance(), obs->embodiment, f));
  }
  return out;
}

std::vector<absl::StatusOr<ChunkValues>> FakePolicyRuntime::Decode(absl::Span<const DecodeItem> batch) const {
  ++decode_calls_;
  AtomicMax<int64_t>(&max_decode_batch_, static_cast<int64_t>(batch.size()));
  if (options_.decode_latency > absl::ZeroDuration()) absl::SleepFor(options_.decode_latency);
  std::vector<absl::StatusOr<ChunkValues>> out;
  out.reserve(batch.size());
  const int h = options_.action_horizon;
  for (const DecodeItem& item : batch) {
    const auto* cond = dynamic_cast<const FakeCondition*>(item.condition.get());
    if (cond == nullptr || cond->runtime_instance() != instance()) {
      out.push_back(absl::InvalidArgumentError(
          absl::StrCat("condition was not encoded by this runtime (model version ", options_.version, ")")));
      continue;
    }
    if (options_.fail == "decode") {
      out.push_back(Fail(options_, "decode"));
      continue;
    }
    const double phase = static_cast<double>(SplitMix64(item.seed) % 100000) / 100000.0 * 6.283185307179586;
    const action::ActionMask mask = action::EmbodimentMask(cond->embodiment());
    ChunkValues c;
    c.horizon = h;
    c.values.assign(static_cast<size_t>(h) * action::kActionDim, 0.0f);
    for (int s = 0; s < h; ++s) {
      for (int d = 0; d < action::kActionDim; ++d) {
        if (!mask.test(d)) continue;
        c.values[static_cast<size_t>(s) * action::kActionDim + d] = static_cast<float>(
            options_.offset + cond->features()[d] + 0.1 * std::sin(phase + 0.7 * s + 0.3 * d));
      }
    }
    if (!item.executed_prefix.empty()) Inpaint(item, mask, &c);
    if (options_.fail == "non_finite") {
      for (int d = 0; d < action::kActionDim; ++d) {
        if (mask.test(d)) {
          c.values[d] = std::numeric_limits<float>::quiet_NaN();  // the first step's first valid slot
          break;
        }
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

absl::Status FakePolicyRuntime::Warm(int max_batch_size) const {
  if (options_.fail == "warm") return Fail(options_, "warm-up");
  if (max_batch_size < 1) return absl::InvalidArgumentError("warm-up: max_batch_size must be >= 1");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PolicyRuntime>> FakeRuntimeLoader::Load(const RuntimeSource& source) const {
  ++loads_;
  FakeRuntimeOptions o = defaults_;
  if (source.random_init) {
    o.version = absl::StrCat("random-init-", source.config, "-seed", source.seed);
    o.config_name = source.config;
    o.offset += 0.01 * static_cast<double>(source.seed % 100);
    return std::make_unique<FakePolicyRuntime>(std::move(o));
  }
  absl::StatusOr<std::string> text = ReadFile(source.checkpoint_path);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("version") || !j["version"].is_string()) {
    return absl::DataLossError(
        absl::StrCat(source.checkpoint_path, ": not a fake checkpoint (a JSON object with a \"version\" string)"));
  }
  try {
    o.version = j["version"].get<std::string>();
    o.offset = j.value("offset", o.offset);
    o.action_horizon = j.value("action_horizon", o.action_horizon);
    o.image_size = j.value("image_size", o.image_size);
    o.control_rate_hz = j.value("control_rate_hz", o.control_rate_hz);
    o.encode_latency = absl::Milliseconds(j.value("encode_latency_ms", absl::ToDoubleMilliseconds(o.encode_latency)));
    o.decode_latency = absl::Milliseconds(j.value("decode_latency_ms", absl::ToDoubleMilliseconds(o.decode_latency)));
    o.fail = j.value("fail", o.fail);
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(source.checkpoint_path, ": ", e.what()));
  }
  if (o.fail == "load") {
    return absl::DataLossError(absl::StrCat(source.checkpoint_path, ": fails to load (configured)"));
  }
  return std::make_unique<FakePolicyRuntime>(std::move(o));
}

std::string FakeCheckpoint(const std::string& version, const std::string& extra_fields) {
  return absl::StrCat("{\"version\": \"", version, "\"", extra_fields.empty() ? "" : ", ", extra_fields, "}\n");
}

}  // namespace mivla::server
