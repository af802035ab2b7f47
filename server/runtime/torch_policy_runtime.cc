#include "server/runtime/torch_policy_runtime.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/model/flow_matching.h"
#include "core/model/synthetic_inputs.h"
#include "core/util/status_prefix.h"

namespace mivla::server {

absl::StatusOr<std::unique_ptr<TorchPolicyRuntime>> TorchPolicyRuntime::Create(checkpoint::PolicyBundle bundle,
                                                                               const Options& options) {
  if (!bundle.model) {
    return absl::InvalidArgumentError(absl::StrCat("model version '", bundle.model_version, "' has no model"));
  }
  const std::string& spm = bundle.tokenizer_model.empty() ? options.fallback_tokenizer : bundle.tokenizer_model;
  if (spm.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model version '", bundle.model_version, "' carries no tokenizer and none is configured"));
  }
  auto tok = tokenizer::Tokenizer::FromSerializedModel(spm);
  if (!tok.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model version '", bundle.model_version, "': tokenizer: ", tok.status().message()));
  }
  if ((*tok)->vocab_size() > bundle.config.text.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("model version '", bundle.model_version, "': tokenizer has ",
                                                   (*tok)->vocab_size(), " pieces, the text encoder only ",
                                                   bundle.config.text.vocab_size));
  }
  std::unique_ptr<TorchPolicyRuntime> r(new TorchPolicyRuntime());
  const model::ModelConfig& c = bundle.config;
  r->image_size_ = std::max(c.dino.image_size, c.siglip.image_size);
  r->runtime_ = options.runtime;
  r->inpainting_ = options.inpainting;
  bundle.model->to(options.runtime.device);
  bundle.model->eval();
  if (options.cuda_graph_max_batch > 0) {
    absl::StatusOr<std::unique_ptr<model::GraphedSampler>> graphed = model::GraphedSampler::Create(
        bundle.model, options.runtime.device,
        options.buckets_without_capture ? model::GraphedSampler::Mode::kEager : model::GraphedSampler::Mode::kCudaGraph,
        options.cuda_graph_max_batch);
    if (!graphed.ok()) {
      return WithPrefix(graphed.status(), absl::StrCat("model version '", bundle.model_version, "': "));
    }
    r->graphed_ = *std::move(graphed);
  }
  RuntimeInfo& info = r->info_;
  info.version = bundle.model_version;
  info.config_name = c.name;
  info.config_json = model::ConfigToJson(c);
  info.action_horizon = c.decoder.action_horizon;
  info.sampling_steps = c.decoder.sampling_steps;
  info.control_rate_hz = c.control_rate_hz;
  info.max_views = c.max_views;
  info.image_size = r->image_size_;
  info.embodiments.assign(action::kAllEmbodiments.begin(), action::kAllEmbodiments.end());
  const bool captured = r->graphed_ && r->graphed_->mode() == model::GraphedSampler::Mode::kCudaGraph;
  r->jpeg_decoder_ = options.jpeg_decoder;
  info.decodes_jpeg = r->jpeg_decoder_ != nullptr;
  info.device = absl::StrCat(model::DescribeDevice(options.runtime), captured ? "/cuda-graphs" : "",
                             r->jpeg_decoder_ ? absl::StrCat("/jpeg-", r->jpeg_decoder_->name()) : "");
  r->bundle_ = std::move(bundle);
  r->tokenizer_ = std::move(*tok);
  r->instruction_cache_ = std::make_unique<model::InstructionCache>(
      model::InstructionCache::Options{options.instruction_cache_capacity});
  return r;
}

absl::Status TorchPolicyRuntime::Warm(int max_batch_size) const {
  // The largest batch first, so the staging buffers are allocated once at their full size.
  for (int b : {std::max(1, max_batch_size), 1}) {
    std::vector<RuntimeObservation> obs(b);
    for (int i = 0; i < b; ++i) {
      RuntimeObservation& o = obs[i];
      o.embodiment = action::kAllEmbodiments[i % action::kAllEmbodiments.size()];
      o.instruction = "warm up";
      o.state_mask = action::EmbodimentMask(o.embodiment);
      for (int v = 0; v < std::min(2, config().max_views); ++v) {
        RuntimeImage im;
        im.width = im.height = image_size_;
        im.rgb.resize(static_cast<size_t>(image_size_) * image_size_ * 3);
        for (size_t k = 0; k < im.rgb.size(); ++k) im.rgb[k] = static_cast<uint8_t>((k * 7 + i * 13 + v) % 251);
        o.images.push_back(std::move(im));
      }
    }
    std::vector<const RuntimeObservation*> ptrs;
    for (const auto& o : obs) ptrs.push_back(&o);
    std::vector<absl::StatusOr<ConditionPtr>> conds = Encode(ptrs);
    std::vector<DecodeItem> items;
    for (size_t i = 0; i < conds.size(); ++i) {
      if (!conds[i].ok()) {
        return WithPrefix(conds[i].status(),
                          absl::StrCat("model version '", info_.version, "': warm-up encode failed: "));
      }
      items.push_back({*conds[i], static_cast<uint64_t>(b * 100 + i + 1), {}});
    }
    for (const absl::StatusOr<ChunkValues>& c : Decode(items)) {
      if (!c.ok()) {
        return WithPrefix(c.status(), absl::StrCat("model version '", info_.version, "': warm-up decode failed: "));
      }
      for (float v : c->values) {
        if (!std::isfinite(v)) {
          return absl::FailedPreconditionError(absl::StrCat("model version '", info_.version,
                                                            "': warm-up produced non-finite actions at batch ", b));
        }
      }
    }
    if (graphed_ == nullptr || b != 1) continue;
    // CUDA graphs: one decode per bucket a batch of up to max_batch_size lands in, so that no request
    // pays a capture.
    for (int rows : graphed_->buckets()) {
      std::vector<DecodeItem> same(static_cast<size_t>(rows), items[0]);
      for (const absl::StatusOr<ChunkValues>& c : Decode(same)) {
        if (!c.ok()) {
          return WithPrefix(c.status(),
                            absl::StrCat("model version '", info_.version, "': CUDA graph of ", rows, " rows: "));
        }
      }
      if (rows >= max_batch_size) break;
    }
  }
  return absl::OkStatus();
}

}  // namespace mivla::server
