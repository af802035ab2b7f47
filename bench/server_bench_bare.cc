#include "bench/server_bench_bare.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/model/flow_matching.h"
#include "core/model/mivla_model.h"
#include "core/model/synthetic_inputs.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/quantile.h"
#include "core/util/status_prefix.h"

namespace mivla::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The lower median, as every p50 of the benchmark (core/util/quantile.h).
double MedianMs(std::vector<double> v) { return Quantile(std::move(v), 0.5); }

}  // namespace

absl::StatusOr<nlohmann::json> MeasureBare(const std::string& config, const std::string& tokenizer_file,
                                           const std::string& instruction, int repeats) {
  absl::StatusOr<model::ModelConfig> cfg = model::ConfigByName(config);
  if (!cfg.ok()) return cfg.status();
  auto tok = tokenizer::Tokenizer::FromFile(tokenizer_file);
  if (!tok.ok()) return WithPrefix(tok.status(), "--tokenizer: ");
  torch::manual_seed(1);
  model::MivlaModel m(*cfg);
  m->eval();
  torch::InferenceMode inference;
  const int image_size = std::max(cfg->dino.image_size, cfg->siglip.image_size);
  model::ModelInputs in = model::SyntheticInputs(*cfg, {action::Embodiment::kPiper}, 1, image_size);
  const int views = std::min<int>(2, cfg->max_views);
  in.view_mask = torch::zeros({1, cfg->max_views}, torch::kBool);
  in.view_mask.narrow(1, 0, views).fill_(true);
  in.images.narrow(1, views, cfg->max_views - views).zero_();
  std::vector<int64_t> ids = (*tok)->Encode(instruction, cfg->text.max_tokens);
  in.text_ids = torch::zeros({1, cfg->text.max_tokens}, torch::kLong);
  in.text_mask = torch::zeros({1, cfg->text.max_tokens}, torch::kBool);
  for (size_t i = 0; i < ids.size(); ++i) in.text_ids[0][static_cast<int64_t>(i)] = ids[i];
  in.text_mask.narrow(1, 0, static_cast<int64_t>(ids.size())).fill_(true);

  // Medians of (encode + sampler, encode, sampler) in ms for `in`, after three warm-up passes.
  auto measure = [&](const model::ModelInputs& x, int repeats) -> absl::StatusOr<std::array<double, 3>> {
    const int64_t b = x.images.size(0);
    std::vector<double> total, enc, dec;
    for (int r = -3; r < repeats; ++r) {
      const auto t0 = Clock::now();
      model::ConditionTokens cond = m->Encode(x);
      const auto t1 = Clock::now();
      torch::Tensor noise = model::SampleNoise(b, cfg->decoder.action_horizon, action::kActionDim, 7 + r);
      torch::Tensor out = model::EulerSample(*m, m->PrepareDecoding(cond), noise, cfg->decoder.sampling_steps);
      const auto t2 = Clock::now();
      if (!torch::isfinite(out).all().item<bool>()) return absl::InternalError("bare decode produced non-finite actions");
      if (r < 0) continue;
      enc.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      dec.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
      total.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
    }
    return std::array<double, 3>{MedianMs(total), MedianMs(enc), MedianMs(dec)};
  };
  absl::StatusOr<std::array<double, 3>> one = measure(in, repeats);
  if (!one.ok()) return one.status();
  // The same sample 16 times in one batch: the best a batch-16 server step can do on this machine.
  model::ModelInputs in16;
  for (auto [dst, src] : {std::pair{&in16.images, &in.images}, {&in16.view_mask, &in.view_mask},
                          {&in16.text_ids, &in.text_ids}, {&in16.text_mask, &in.text_mask},
                          {&in16.state, &in.state}, {&in16.state_mask, &in.state_mask},
                          {&in16.embodiment, &in.embodiment}}) {
    *dst = torch::cat(std::vector<torch::Tensor>(16, *src));
  }
  absl::StatusOr<std::array<double, 3>> sixteen = measure(in16, std::max(3, repeats / 4));
  if (!sixteen.ok()) return sixteen.status();
  return nlohmann::json{{"bare_decode_ms", (*one)[0]},
                        {"bare_encode_only_ms", (*one)[1]},
                        {"bare_sampler_only_ms", (*one)[2]},
                        {"bare_batch16_ms", (*sixteen)[0]},
                        {"bare_batch16_note", "encode + decode of 16 copies in one batch: a batch-16 server step "
                                              "cannot be faster, so 16-session latency >= this"},
                        {"views", views},
                        {"text_tokens", ids.size()},
                        {"repeats", repeats}};
}

int TorchThreads() { return torch::get_num_threads(); }

}  // namespace mivla::bench
