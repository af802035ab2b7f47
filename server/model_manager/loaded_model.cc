#include "server/model_manager/loaded_model.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/model/flow_matching.h"
#include "core/model/synthetic_inputs.h"
#include "core/util/status_macros.h"

namespace mivla::server {

absl::StatusOr<std::shared_ptr<LoadedModel>> LoadedModel::Create(checkpoint::PolicyBundle bundle,
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
  std::shared_ptr<LoadedModel> m(new LoadedModel());
  m->image_size_ = std::max(bundle.config.dino.image_size, bundle.config.siglip.image_size);
  m->runtime_ = options.runtime;
  bundle.model->to(options.runtime.device);
  bundle.model->eval();
  m->bundle_ = std::move(bundle);
  m->tokenizer_ = std::move(*tok);
  m->instruction_cache_ = std::make_unique<model::InstructionCache>(
      model::InstructionCache::Options{options.instruction_cache_capacity});
  return m;
}

absl::Status LoadedModel::Warm(int max_batch_size) const {
  try {
    torch::InferenceMode guard;
    model::AutocastGuard autocast(runtime_);
    const std::vector<action::Embodiment> all = {action::Embodiment::kPiper, action::Embodiment::kArx5,
                                                 action::Embodiment::kAlohaAgilex, action::Embodiment::kLocoman,
                                                 action::Embodiment::kHuman};
    for (int b : {1, std::max(1, max_batch_size)}) {
      std::vector<action::Embodiment> es;
      for (int i = 0; i < b; ++i) es.push_back(all[i % all.size()]);
      model::ModelInputs in = model::SyntheticInputs(config(), es, /*seed=*/b, image_size_);
      in.images = in.images.to(runtime_.device);
      in.view_mask = in.view_mask.to(runtime_.device);
      in.text_ids = in.text_ids.to(runtime_.device);
      in.text_mask = in.text_mask.to(runtime_.device);
      in.state = in.state.to(runtime_.device);
      in.state_mask = in.state_mask.to(runtime_.device);
      in.embodiment = in.embodiment.to(runtime_.device);
      model::ConditionTokens cond = model().Encode(in);
      torch::Tensor noise = model::SampleNoise(b, config().decoder.action_horizon, action::kActionDim, 1,
                                               runtime_.device);
      torch::Tensor out = model::EulerSample(model(), model().PrepareDecoding(cond), noise,
                                             config().decoder.sampling_steps);
      if (!torch::isfinite(out).all().item<bool>()) {
        return absl::FailedPreconditionError(
            absl::StrCat("model version '", version(), "': warm-up produced non-finite actions at batch ", b));
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("model version '", version(), "': warm-up failed: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace mivla::server
