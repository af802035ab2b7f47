#include "core/model/synthetic_inputs.h"

#include <torch/torch.h>

namespace mivla::model {
namespace {

torch::Tensor MaskRows(const std::vector<action::Embodiment>& es, bool complement) {
  torch::Tensor m = torch::zeros({static_cast<int64_t>(es.size()), action::kActionDim});
  for (size_t i = 0; i < es.size(); ++i) {
    action::ActionMask am = complement ? action::ComplementMask(es[i]) : action::EmbodimentMask(es[i]);
    for (int d = 0; d < action::kActionDim; ++d) {
      if (am.test(d)) m[i][d] = 1.0f;
    }
  }
  return m;
}

}  // namespace

torch::Tensor EmbodimentMasks(const std::vector<action::Embodiment>& es) { return MaskRows(es, false); }
torch::Tensor ComplementMasks(const std::vector<action::Embodiment>& es) { return MaskRows(es, true); }

ModelInputs SyntheticInputs(const ModelConfig& config, const std::vector<action::Embodiment>& es,
                            uint64_t seed, int64_t image_size) {
  torch::manual_seed(seed);
  const int64_t b = static_cast<int64_t>(es.size());
  const int64_t v = config.max_views;
  const int64_t l = 4 + b - 1;
  ModelInputs in;
  in.images = torch::rand({b, v, 3, image_size, image_size});
  in.view_mask = torch::zeros({b, v}, torch::kBool);
  in.text_ids = torch::zeros({b, l}, torch::kLong);
  in.text_mask = torch::zeros({b, l}, torch::kBool);
  in.state_mask = EmbodimentMasks(es);
  in.state = torch::randn({b, action::kActionDim}) * in.state_mask;
  in.embodiment = torch::zeros({b}, torch::kLong);
  for (int64_t i = 0; i < b; ++i) {
    const int64_t views = es[i] == action::Embodiment::kHuman ? 1 : v;
    in.view_mask.index_put_({i, torch::indexing::Slice(0, views)}, true);
    const int64_t n = 4 + i;
    in.text_ids.index_put_({i, torch::indexing::Slice(0, n)},
                           torch::randint(3, config.text.vocab_size, {n}, torch::kLong));
    in.text_ids.index_put_({i, n - 1}, 1);  // EOS
    in.text_mask.index_put_({i, torch::indexing::Slice(0, n)}, true);
    in.embodiment[i] = static_cast<int64_t>(es[i]);
  }
  return in;
}

}  // namespace mivla::model
