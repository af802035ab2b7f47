#include "core/model/mivla_model.h"

#include <torch/torch.h>

#include "core/action/action_space.h"

namespace mivla::model {
namespace {

using action::kEndEffectorGroup;
using action::kHumanGroup;
using action::kRobotJointsGroup;

torch::Tensor StateGroup(const torch::Tensor& state, const torch::Tensor& mask, const action::Slice& g) {
  torch::Tensor m = mask.slice(1, g.begin, g.end()).to(state.scalar_type());
  return torch::cat({state.slice(1, g.begin, g.end()) * m, m}, 1);
}

}  // namespace

MivlaModelImpl::MivlaModelImpl(const ModelConfig& config) : config_(config) {
  const int64_t w = config.decoder.width;
  dino_ = register_module("dino", VitEncoder(config.dino));
  siglip_ = register_module("siglip", VitEncoder(config.siglip));
  text_ = register_module("text", T5Encoder(config.text));
  dino_proj_ = register_module("dino_proj", Mlp(config.dino.width, w, w, 2));
  siglip_proj_ = register_module("siglip_proj", Mlp(config.siglip.width, w, w, 2));
  text_proj_ = register_module("text_proj", Mlp(config.text.d_model, w, w, 2));
  view_embedding_ = register_parameter("view_embedding", torch::randn({config.max_views, w}) * 0.02);
  source_embedding_ = register_parameter("source_embedding", torch::randn({2, w}) * 0.02);
  state_human_ = register_module("state_human", Mlp(2 * kHumanGroup.size, w, w, 3));
  state_joints_ = register_module("state_joints", Mlp(2 * kRobotJointsGroup.size, w, w, 3));
  state_ee_ = register_module("state_ee", Mlp(2 * kEndEffectorGroup.size, w, w, 3));
  embodiment_ = register_module("embodiment", torch::nn::Embedding(action::kNumEmbodiments, w));
  decoder_ = register_module("decoder", DitDecoder(config.decoder, action::kActionDim));
  for (Mlp* m : {&dino_proj_, &siglip_proj_, &text_proj_, &state_human_, &state_joints_, &state_ee_}) {
    XavierInitLinears(**m);
  }
  SetFrozen(config.freeze_vision, config.freeze_text);
}

void MivlaModelImpl::SetFrozen(bool vision, bool text) {
  config_.freeze_vision = vision;
  config_.freeze_text = text;
  for (auto& p : dino_->parameters()) p.set_requires_grad(!vision);
  for (auto& p : siglip_->parameters()) p.set_requires_grad(!vision);
  for (auto& p : text_->parameters()) p.set_requires_grad(!text);
}

std::pair<torch::Tensor, torch::Tensor> MivlaModelImpl::EncodeVision(const torch::Tensor& images,
                                                                     const torch::Tensor& view_mask) {
  const int64_t b = images.size(0), v = images.size(1);
  const int64_t td = config_.dino.num_patches(), ts = config_.siglip.num_patches();
  const int64_t w = config_.decoder.width;
  torch::Tensor flat = images.flatten(0, 1);                          // [B*V, 3, H, W]
  torch::Tensor present = view_mask.flatten().nonzero().squeeze(1);  // indices of real views
  torch::Tensor picked = flat.index_select(0, present);
  torch::Tensor dino_tokens, siglip_tokens;
  {
    torch::AutoGradMode grad(torch::GradMode::is_enabled() && !config_.freeze_vision);
    dino_tokens = dino_->PatchTokens(dino_->Preprocess(picked));
    siglip_tokens = siglip_->PatchTokens(siglip_->Preprocess(picked));
  }
  torch::Tensor tokens = torch::cat({dino_proj_->forward(dino_tokens) + source_embedding_[0],
                                     siglip_proj_->forward(siglip_tokens) + source_embedding_[1]},
                                    1);  // [N, Td + Ts, W]
  torch::Tensor all = torch::zeros({b * v, td + ts, w}, tokens.options());
  all = all.index_copy(0, present, tokens).view({b, v, td + ts, w});
  all = all + view_embedding_.slice(0, 0, v).view({1, v, 1, w});
  torch::Tensor mask = view_mask.to(torch::kBool).unsqueeze(2).expand({b, v, td + ts});
  return {all.reshape({b, v * (td + ts), w}), mask.reshape({b, v * (td + ts)})};
}

torch::Tensor MivlaModelImpl::EncodeText(const torch::Tensor& ids, const torch::Tensor& mask) {
  torch::Tensor hidden;
  {
    torch::AutoGradMode grad(torch::GradMode::is_enabled() && !config_.freeze_text);
    hidden = text_->forward(ids, mask);
  }
  return text_proj_->forward(hidden);
}

torch::Tensor MivlaModelImpl::EncodePrefix(const torch::Tensor& state, const torch::Tensor& state_mask,
                                           const torch::Tensor& embodiment) {
  return torch::stack({state_human_->forward(StateGroup(state, state_mask, kHumanGroup)),
                       state_joints_->forward(StateGroup(state, state_mask, kRobotJointsGroup)),
                       state_ee_->forward(StateGroup(state, state_mask, kEndEffectorGroup)),
                       embodiment_->forward(embodiment)},
                      1);
}

ConditionTokens MivlaModelImpl::Encode(const ModelInputs& in) {
  ConditionTokens c;
  std::tie(c.vision, c.vision_mask) = EncodeVision(in.images, in.view_mask);
  c.text = EncodeText(in.text_ids, in.text_mask);
  c.text_mask = in.text_mask.to(torch::kBool);
  c.prefix = EncodePrefix(in.state, in.state_mask, in.embodiment);
  return c;
}

int64_t CountParameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace mivla::model
