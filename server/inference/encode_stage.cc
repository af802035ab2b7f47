#include "server/inference/encode_stage.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "server/inference/observation_input.h"

namespace mivla::server {
namespace {

constexpr float kMaxNormalized = 100.0f;

// Writes a side x side RGB8 image (ResizeForModel's output) as [3, side, side] floats in [0, 1].
void WriteImage(const cv::Mat& rgb, int side, at::Tensor dst) {
  cv::Mat resized = rgb.cols == side && rgb.rows == side ? rgb : ResizeForModel(rgb, side);
  if (!resized.isContinuous()) resized = resized.clone();
  at::Tensor hwc = torch::from_blob(resized.data, {side, side, 3}, torch::kUInt8);
  dst.copy_(hwc.permute({2, 0, 1}).to(torch::kFloat).div_(255.0f));
}

}  // namespace

cv::Mat ResizeForModel(const cv::Mat& rgb, int side) {
  if (rgb.cols == side && rgb.rows == side) return rgb;
  cv::Mat resized;
  const bool shrink = rgb.cols > side || rgb.rows > side;
  cv::resize(rgb, resized, cv::Size(side, side), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  return resized;
}

absl::Status DecodeForModel(const mivla::v1::ObserveRequest& request, int side, const InputLimits& limits,
                            std::vector<cv::Mat>* out) {
  out->clear();
  for (int v = 0; v < request.images_size(); ++v) {
    absl::StatusOr<cv::Mat> rgb = DecodeImage(request.images(v), absl::StrCat("images[", v, "]"), limits);
    if (!rgb.ok()) return rgb.status();
    out->push_back(ResizeForModel(*rgb, side));
  }
  return absl::OkStatus();
}

absl::Status PrepareRow(const EncodeTask& task, const LoadedModel& model, const InputLimits& limits,
                        EncodeStaging* s, int row) {
  const model::ModelConfig& c = model.config();
  const SessionSpec& spec = task.session->spec();
  const auto& images = task.request->images();
  if (images.size() > c.max_views) {
    return absl::InvalidArgumentError(absl::StrCat("images: ", images.size(), " views; model version ",
                                                   model.version(), " takes at most ", c.max_views));
  }
  s->view_mask[row].fill_(false);
  if (task.images.size() != static_cast<size_t>(images.size())) {
    return absl::InternalError(absl::StrCat("images: ", task.images.size(), " decoded of ", images.size()));
  }
  for (int v = 0; v < images.size(); ++v) WriteImage(task.images[v], model.image_size(), s->images[row][v]);
  s->images[row].narrow(0, images.size(), c.max_views - images.size()).zero_();
  s->view_mask[row].narrow(0, 0, images.size()).fill_(true);

  std::vector<int64_t> ids = model.tokenizer().Encode(task.instruction, c.text.max_tokens);
  auto id_row = s->text_ids[row];
  id_row.zero_();
  s->text_mask[row].fill_(false);
  int64_t* id_data = id_row.data_ptr<int64_t>();
  std::copy(ids.begin(), ids.end(), id_data);
  s->text_mask[row].narrow(0, 0, static_cast<int64_t>(ids.size())).fill_(true);

  RawState st = StateFromProprioception(task.request->proprioception(), spec.embodiment);
  model.normalization().Normalize(spec.embodiment, st.values.data(), st.mask);
  float* state = s->state[row].data_ptr<float>();
  float* mask = s->state_mask[row].data_ptr<float>();
  for (int d = 0; d < action::kActionDim; ++d) {
    // Range checks keep inputs near the training data; the clamp is the backstop that keeps an extreme
    // normalised value (degenerate statistics) from reaching the model.
    state[d] = st.mask.test(d) && std::isfinite(st.values[d]) ? std::clamp(st.values[d], -kMaxNormalized, kMaxNormalized)
                                                               : 0.0f;
    mask[d] = st.mask.test(d) ? 1.0f : 0.0f;
  }
  s->embodiment[row].fill_(static_cast<int64_t>(spec.embodiment));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::shared_ptr<EncodedObservation>>> EncodeRows(
    const LoadedModel& lm, const EncodeStaging& s, int n, const std::vector<std::string>& instructions) {
  std::vector<std::shared_ptr<EncodedObservation>> out;
  try {
    torch::InferenceMode guard;
    model::AutocastGuard autocast(lm.runtime());
    const c10::Device dev = lm.runtime().device;
    model::MivlaModelImpl& m = lm.model();
    auto rows = [&](const at::Tensor& t) { return t.narrow(0, 0, n).to(dev); };
    model::ConditionTokens cond;
    std::tie(cond.vision, cond.vision_mask) = m.EncodeVision(rows(s.images), rows(s.view_mask));
    cond.prefix = m.EncodePrefix(rows(s.state), rows(s.state_mask), rows(s.embodiment));
    // Text: each distinct instruction once, through the version's cache.
    std::vector<at::Tensor> text(n), text_mask(n);
    std::map<std::string, std::vector<int>> misses;
    for (int i = 0; i < n; ++i) {
      if (auto hit = lm.instruction_cache().Lookup(instructions[i])) {
        text[i] = hit->tokens, text_mask[i] = hit->mask;
      } else {
        misses[instructions[i]].push_back(i);
      }
    }
    if (!misses.empty()) {
      std::vector<int64_t> first;
      for (const auto& [txt, idx] : misses) first.push_back(idx[0]);
      at::Tensor index = torch::tensor(first, torch::kLong);
      at::Tensor ids = s.text_ids.index_select(0, index).to(dev);
      at::Tensor mask = s.text_mask.index_select(0, index).to(dev);
      at::Tensor enc = m.EncodeText(ids, mask);
      int k = 0;
      for (const auto& [txt, idx] : misses) {
        model::EncodedInstruction e{enc[k].clone(), mask[k].clone()};
        lm.instruction_cache().Insert(txt, e);
        for (int i : idx) text[i] = e.tokens, text_mask[i] = e.mask;
        ++k;
      }
    }
    for (int i = 0; i < n; ++i) {
      auto o = std::make_shared<EncodedObservation>();
      o->model_version = lm.version();
      o->cond.vision = cond.vision.narrow(0, i, 1).clone();
      o->cond.vision_mask = cond.vision_mask.narrow(0, i, 1).clone();
      o->cond.prefix = cond.prefix.narrow(0, i, 1).clone();
      o->cond.text = text[i].unsqueeze(0);
      o->cond.text_mask = text_mask[i].unsqueeze(0);
      PreparedInputs& p = o->inputs;
      p.images = s.images[i].to(dev, /*non_blocking=*/false, /*copy=*/true);
      p.view_mask = s.view_mask[i].to(dev, false, true);
      p.text_ids = s.text_ids[i].to(dev, false, true);
      p.text_mask = s.text_mask[i].to(dev, false, true);
      p.state = s.state[i].to(dev, false, true);
      p.state_mask = s.state_mask[i].to(dev, false, true);
      p.embodiment = static_cast<action::Embodiment>(s.embodiment[i].item<int64_t>());
      o->instruction = instructions[i];
      out.push_back(std::move(o));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("encode failed on model version ", lm.version(), ": ", e.what()));
  }
  return out;
}

absl::StatusOr<std::vector<std::shared_ptr<EncodedObservation>>> ReEncode(
    const LoadedModel& lm, const std::vector<std::shared_ptr<const EncodedObservation>>& obs,
    EncodeStaging* s) {
  const int n = static_cast<int>(obs.size());
  std::vector<std::string> instructions;
  for (int i = 0; i < n; ++i) {
    const PreparedInputs& p = obs[i]->inputs;
    if (p.images.sizes() != s->images[i].sizes() || p.text_ids.sizes() != s->text_ids[i].sizes()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "observation ", obs[i]->id, " was prepared for a model version with other input shapes than ",
          lm.version(), "; send a new observation"));
    }
    s->images[i].copy_(p.images);
    s->view_mask[i].copy_(p.view_mask);
    s->text_ids[i].copy_(p.text_ids);
    s->text_mask[i].copy_(p.text_mask);
    std::array<float, action::kActionDim> st = p.raw_state;
    lm.normalization().Normalize(p.embodiment, st.data(), p.raw_state_mask);
    float* state = s->state[i].data_ptr<float>();
    float* mask = s->state_mask[i].data_ptr<float>();
    for (int d = 0; d < action::kActionDim; ++d) {
      state[d] = p.raw_state_mask.test(d) ? st[d] : 0.0f;
      mask[d] = p.raw_state_mask.test(d) ? 1.0f : 0.0f;
    }
    s->embodiment[i].fill_(static_cast<int64_t>(p.embodiment));
    instructions.push_back(obs[i]->instruction);
  }
  auto out = EncodeRows(lm, *s, n, instructions);
  if (!out.ok()) return out.status();
  for (int i = 0; i < n; ++i) {
    (*out)[i]->id = obs[i]->id;
    (*out)[i]->timestamp_us = obs[i]->timestamp_us;
    (*out)[i]->inputs.raw_state = obs[i]->inputs.raw_state;
    (*out)[i]->inputs.raw_state_mask = obs[i]->inputs.raw_state_mask;
  }
  return out;
}

}  // namespace mivla::server
