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
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"

namespace mivla::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The lower median, as every p50 of the benchmark (core/util/quantile.h).
double MedianMs(std::vector<double> v) { return Quantile(std::move(v), 0.5); }

}  // namespace

struct BareModel::State {
  model::ModelConfig cfg;
  model::MivlaModel m{nullptr};
  model::ModelInputs one;
  model::ModelInputs sixteen;
  int views = 0;
  int text_tokens = 0;
};

BareModel::BareModel(std::unique_ptr<State> state) : state_(std::move(state)) {}
BareModel::~BareModel() = default;
int BareModel::views() const { return state_->views; }
int BareModel::text_tokens() const { return state_->text_tokens; }

absl::StatusOr<std::unique_ptr<BareModel>> BareModel::Create(const std::string& config,
                                                             const std::string& tokenizer_file,
                                                             const std::string& instruction) {
  absl::StatusOr<model::ModelConfig> cfg = model::ConfigByName(config);
  if (!cfg.ok()) return cfg.status();
  auto tok = tokenizer::Tokenizer::FromFile(tokenizer_file);
  if (!tok.ok()) return WithPrefix(tok.status(), "--tokenizer: ");
  auto st = std::make_unique<State>();
  st->cfg = *cfg;
  torch::manual_seed(1);
  st->m = model::MivlaModel(*cfg);
  st->m->eval();
  torch::InferenceMode inference;
  const int image_size = std::max(cfg->dino.image_size, cfg->siglip.image_size);
  model::ModelInputs& in = st->one;
  in = model::SyntheticInputs(*cfg, {action::Embodiment::kPiper}, 1, image_size);
  st->views = std::min<int>(2, cfg->max_views);
  in.view_mask = torch::zeros({1, cfg->max_views}, torch::kBool);
  in.view_mask.narrow(1, 0, st->views).fill_(true);
  in.images.narrow(1, st->views, cfg->max_views - st->views).zero_();
  std::vector<int64_t> ids = (*tok)->Encode(instruction, cfg->text.max_tokens);
  st->text_tokens = static_cast<int>(ids.size());
  in.text_ids = torch::zeros({1, cfg->text.max_tokens}, torch::kLong);
  in.text_mask = torch::zeros({1, cfg->text.max_tokens}, torch::kBool);
  for (size_t i = 0; i < ids.size(); ++i) in.text_ids[0][static_cast<int64_t>(i)] = ids[i];
  in.text_mask.narrow(1, 0, static_cast<int64_t>(ids.size())).fill_(true);
  // The same sample 16 times in one batch: the best a batch-16 server step can do on this machine.
  for (auto [dst, src] : {std::pair{&st->sixteen.images, &in.images},
                          {&st->sixteen.view_mask, &in.view_mask},
                          {&st->sixteen.text_ids, &in.text_ids},
                          {&st->sixteen.text_mask, &in.text_mask},
                          {&st->sixteen.state, &in.state},
                          {&st->sixteen.state_mask, &in.state_mask},
                          {&st->sixteen.embodiment, &in.embodiment}}) {
    *dst = torch::cat(std::vector<torch::Tensor>(16, *src));
  }
  return std::unique_ptr<BareModel>(new BareModel(std::move(st)));
}

absl::StatusOr<BareCall> BareModel::Time(int batch, int seed) {
  if (batch != 1 && batch != 16) return absl::InvalidArgumentError(absl::StrCat("BareModel: batch ", batch));
  State& st = *state_;
  torch::InferenceMode inference;
  const model::ModelInputs& x = batch == 1 ? st.one : st.sixteen;
  const auto t0 = Clock::now();
  model::ConditionTokens cond = st.m->Encode(x);
  const auto t1 = Clock::now();
  torch::Tensor noise = model::SampleNoise(batch, st.cfg.decoder.action_horizon, action::kActionDim, seed);
  torch::Tensor out = model::EulerSample(*st.m, st.m->PrepareDecoding(cond), noise, st.cfg.decoder.sampling_steps);
  const auto t2 = Clock::now();
  if (!torch::isfinite(out).all().item<bool>()) return absl::InternalError("bare decode produced non-finite actions");
  const auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  return BareCall{ms(t2 - t0), ms(t1 - t0), ms(t2 - t1)};
}

absl::StatusOr<nlohmann::json> MeasureBare(BareModel& bare_model, int repeats) {
  BareModel* bare = &bare_model;
  // Medians of (encode + sampler, encode, sampler) in ms at `batch`, after three warm-up passes.
  auto measure = [&](int batch, int repeats) -> absl::StatusOr<std::array<double, 3>> {
    std::vector<double> total, enc, dec;
    for (int r = -3; r < repeats; ++r) {
      ASSIGN_OR_RETURN(const BareCall t, bare->Time(batch, 7 + r));
      if (r < 0) continue;
      total.push_back(t.total_ms);
      enc.push_back(t.encode_ms);
      dec.push_back(t.sampler_ms);
    }
    return std::array<double, 3>{MedianMs(total), MedianMs(enc), MedianMs(dec)};
  };
  ASSIGN_OR_RETURN(const auto one, measure(1, repeats));
  ASSIGN_OR_RETURN(const auto sixteen, measure(16, std::max(3, repeats / 4)));
  return nlohmann::json{{"bare_decode_ms", one[0]},
                        {"bare_encode_only_ms", one[1]},
                        {"bare_sampler_only_ms", one[2]},
                        {"bare_batch16_ms", sixteen[0]},
                        {"bare_batch16_note",
                         "encode + decode of 16 copies in one batch: a batch-16 server step "
                         "cannot be faster, so 16-session latency >= this"},
                        {"views", bare->views()},
                        {"text_tokens", bare->text_tokens()},
                        {"repeats", repeats}};
}

int TorchThreads() { return torch::get_num_threads(); }

}  // namespace mivla::bench
