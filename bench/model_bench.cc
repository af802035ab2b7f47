// mivla-bench-model: speed of the MiVLA model itself (no server).
//
//   mivla-bench-model --config tiny|base [--json] [--device cpu|cuda|auto] [--precision fp32|bf16]
//                     [--batches 1,4,16] [--repeats N] [--views V] [--threads T] [--out FILE]
//                     [--profile TRACE.json] [--cuda-graphs]
//
// Prints one JSON object: device, parameters per component, analytic FLOPs per sample, the measured
// peak of a 1024x1024x1024 fp32 GEMM, and per batch size the wall time of encode (vision + language +
// proprioception) and decode (K/V projection + the K-step Euler sampler) for the whole batch, with the
// decoder's achieved GFLOP/s. Times are medians over `repeats` after one warm-up.
// --cuda-graphs (CUDA device, CUDA build; issue 12's GPU path): per batch size also the decode's p50/p99
// over `repeats` calls op by op and replayed from a CUDA graph (core/model/graphed_sampler.h; the first
// call, which captures, is timed apart), and 1 - graph/eager at p50: the share of the eager decode that
// is launch overhead and gaps between kernels rather than kernel time (the graph keeps the kernels and
// drops the launches), and the largest difference between the replayed and the op-by-op chunks.
#include <torch/torch.h>
#if __has_include(<torch/csrc/autograd/profiler_legacy.h>)
#include <torch/csrc/autograd/profiler_legacy.h>
#define MIVLA_HAVE_LEGACY_PROFILER 1
#else
#define MIVLA_HAVE_LEGACY_PROFILER 0
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/model/flop_count.h"
#include "core/model/flow_matching.h"
#include "core/model/graphed_sampler.h"
#include "core/model/mivla_model.h"
#include "core/model/runtime.h"
#include "core/model/synthetic_inputs.h"
#include "core/util/flag_parser.h"
#include "core/util/malloc_tuning.h"
#include "core/util/quantile.h"
#include "nlohmann/json.hpp"

namespace mivla::model {
namespace {

struct Args {
  std::string config = "tiny";
  std::string device = "cpu";
  std::string precision = "fp32";
  std::vector<int> batches = {1, 4, 16};
  int repeats = 5;
  int views = 3;
  int threads = 0;  // 0 = LibTorch's default
  bool json = false;
  std::string out;
  std::string profile;  // chrome-trace file of one batch-16 decode (LibTorch's profiler)
  bool cuda_graphs = false;
};

const char kUsage[] =
    "mivla-bench-model --config tiny|base [--json] [--device cpu|cuda|auto] [--precision fp32|bf16]\n"
    "    [--batches 1,4,16] [--repeats N] [--views V] [--threads T] [--out FILE] [--profile TRACE.json] "
    "[--cuda-graphs]";

[[noreturn]] void Usage(const std::string& error) {
  std::cerr << "mivla-bench-model: " << error << "\nusage: " << kUsage << "\n";
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  int64_t repeats = a.repeats, views = a.views, threads = a.threads;
  std::string batches = "1,4,16";
  FlagParser p(kUsage);
  p.AddString("config", &a.config, "model configuration: tiny or base");
  p.AddString("device", &a.device, "cpu, cuda, cuda:N or auto");
  p.AddString("precision", &a.precision, "fp32, or bf16 (CUDA only)");
  p.AddString("batches", &batches, "batch sizes to time, comma-separated");
  p.AddInt("repeats", &repeats, "timed calls per batch size, after one warm-up");
  p.AddInt("views", &views, "camera views per observation");
  p.AddInt("threads", &threads, "LibTorch intra-op threads (0: its default)");
  p.AddBool("json", &a.json, "print only the JSON");
  p.AddString("out", &a.out, "also write the JSON to this file", false);
  p.AddString("profile", &a.profile, "chrome-trace file of one batch-16 decode (LibTorch's profiler)", false);
  p.AddBool("cuda-graphs", &a.cuda_graphs, "also time the decode replayed from CUDA graphs (--device cuda)");
  if (std::optional<int> exit = p.ParseFlagsForMain(argc, argv, "mivla-bench-model")) std::exit(*exit);
  if (repeats <= 0) Usage(absl::StrCat("--repeats: ", repeats, " is not a positive integer"));
  if (views <= 0) Usage(absl::StrCat("--views: ", views, " is not a positive integer"));
  if (threads < 0) Usage(absl::StrCat("--threads: ", threads, " is not a count"));
  a.repeats = static_cast<int>(repeats), a.views = static_cast<int>(views), a.threads = static_cast<int>(threads);
  a.batches.clear();
  for (absl::string_view part : absl::StrSplit(batches, ',')) {
    int n;
    if (!absl::SimpleAtoi(part, &n) || n <= 0) Usage(absl::StrCat("--batches: '", part, "' is not a positive integer"));
    a.batches.push_back(n);
  }
  return a;
}

void Sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize();
}

// Wall times of `repeats` calls after one warm-up, ascending.
template <typename F>
std::vector<double> TimesMs(int repeats, const torch::Device& d, F&& f) {
  f();  // warm-up
  Sync(d);
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    Sync(d);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms;
}

template <typename F>
double MedianMs(int repeats, const torch::Device& d, F&& f) {
  return TimesMs(repeats, d, std::forward<F>(f))[static_cast<size_t>(repeats) / 2];
}

double MatmulPeakGflops(const torch::Device& d) {
  torch::NoGradGuard no_grad;
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(d);
  torch::Tensor a = torch::randn({1024, 1024}, opts), b = torch::randn({1024, 1024}, opts);
  const int reps = d.is_cuda() ? 50 : 3;
  double best_ms = 1e30;
  for (int trial = 0; trial < 5; ++trial) {
    double ms = MedianMs(1, d, [&] {
      for (int i = 0; i < reps; ++i) torch::mm(a, b);
    });
    best_ms = std::min(best_ms, ms / reps);
  }
  return 2.0 * 1024 * 1024 * 1024 / (best_ms * 1e-3) / 1e9;
}

// The configuration and runtime the flags name; a bad combination ends the program with usage.
std::pair<ModelConfig, RuntimeOptions> ConfigAndRuntimeOrUsage(const Args& args) {
  absl::StatusOr<ModelConfig> cfg = ConfigByName(args.config);
  if (!cfg.ok()) Usage(std::string(cfg.status().message()));
  absl::StatusOr<RuntimeOptions> rt = ParseRuntimeOptions(args.device, args.precision);
  if (!rt.ok()) Usage(std::string(rt.status().message()));
  if (args.views > cfg->max_views) Usage("--views exceeds the config's max_views");
  if (!MIVLA_HAVE_LEGACY_PROFILER && !args.profile.empty()) {
    Usage("--profile: this LibTorch has no legacy profiler (torch/csrc/autograd/profiler_legacy.h)");
  }
  if (args.cuda_graphs && !rt->device.is_cuda()) Usage("--cuda-graphs needs --device cuda");
  if (args.cuda_graphs && !GraphedSampler::CudaGraphsBuilt()) {
    Usage("--cuda-graphs: this binary was built without CUDA graphs (build against a CUDA LibTorch)");
  }
  return {*cfg, *rt};
}

constexpr int kTextTokens = 16;  // every sample's instruction length, so the FLOP count matches

// The run's description: device, threads, parameter counts, FLOPs per sample, the matmul peak.
nlohmann::json HeaderJson(const Args& args, const ModelConfig& cfg, const RuntimeOptions& rt, MivlaModel& model,
                          const FlopCount& flops) {
  nlohmann::json out;
  out["benchmark"] = "model";
  out["config"] = cfg.name;
  out["device"] = DescribeDevice(rt);
  out["torch_threads"] = torch::get_num_threads();
  out["allocator"] = AllocatorName();
  int64_t other = CountParameters(*model) - CountParameters(*model->dino()) - CountParameters(*model->siglip()) -
                  CountParameters(*model->text_encoder()) - CountParameters(*model->decoder());
  out["params"] = {{"dino", CountParameters(*model->dino())},
                   {"siglip", CountParameters(*model->siglip())},
                   {"text", CountParameters(*model->text_encoder())},
                   {"decoder", CountParameters(*model->decoder())},
                   {"projections_and_state", other},
                   {"total", CountParameters(*model)}};
  out["flops"] = {{"views", args.views},
                  {"text_tokens", kTextTokens},
                  {"encode_per_sample", flops.encode_total},
                  {"decode_per_sample", flops.decode_total},
                  {"decode_step_per_sample", flops.decode_step},
                  {"sampling_steps", cfg.decoder.sampling_steps}};
  out["matmul_peak_gflops"] = MatmulPeakGflops(rt.device);
  return out;
}

// Synthetic inputs for a batch of `b` (embodiments in turn), --views views and kTextTokens tokens each.
ModelInputs BatchInputs(const Args& args, const ModelConfig& cfg, const RuntimeOptions& rt, int b) {
  static const std::vector<action::Embodiment> kCycle = {action::Embodiment::kPiper, action::Embodiment::kAlohaAgilex,
                                                         action::Embodiment::kArx5, action::Embodiment::kLocoman};
  std::vector<action::Embodiment> es;
  for (int i = 0; i < b; ++i) es.push_back(kCycle[i % kCycle.size()]);
  ModelInputs in = SyntheticInputs(cfg, es, 1, cfg.siglip.image_size);
  in.images = in.images.slice(1, 0, args.views);
  in.view_mask = torch::ones({b, args.views}, torch::kBool);
  in.text_ids = torch::randint(3, cfg.text.vocab_size, {b, kTextTokens}, torch::kLong);
  in.text_mask = torch::ones({b, kTextTokens}, torch::kBool);
  for (torch::Tensor* t :
       {&in.images, &in.view_mask, &in.text_ids, &in.text_mask, &in.state, &in.state_mask, &in.embodiment}) {
    *t = t->to(rt.device);
  }
  return in;
}

// The decode op by op against its replay from CUDA graphs, for the same rows and noise.
nlohmann::json CudaGraphJson(const Args& args, const ModelConfig& cfg, const RuntimeOptions& rt, MivlaModel& model,
                             GraphedSampler& graphed, const ConditionTokens& cond, const torch::Tensor& noise) {
  const std::vector<double> eager = TimesMs(args.repeats, rt.device, [&] {
    EulerSample(*model, model->PrepareDecoding(cond), noise, cfg.decoder.sampling_steps);
  });
  const auto t0 = std::chrono::steady_clock::now();
  graphed.Sample(cond, noise);  // captures this batch's bucket
  Sync(rt.device);
  const double capture_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<double> graph = TimesMs(args.repeats, rt.device, [&] { graphed.Sample(cond, noise); });
  const torch::Tensor replayed = graphed.Sample(cond, noise);
  const torch::Tensor op_by_op = EulerSample(*model, model->PrepareDecoding(cond), noise, cfg.decoder.sampling_steps);
  const double max_abs_diff = (replayed - op_by_op).abs().max().item<double>();
  return {{"eager_p50_ms", Quantile(eager, 0.5)},
          {"eager_p99_ms", Quantile(eager, 0.99)},
          {"graph_p50_ms", Quantile(graph, 0.5)},
          {"graph_p99_ms", Quantile(graph, 0.99)},
          {"first_call_with_capture_ms", capture_ms},
          {"max_abs_diff_vs_eager", max_abs_diff},
          {"launch_share_of_eager", 1.0 - Quantile(graph, 0.5) / Quantile(eager, 0.5)}};
}

// One row: encode and decode medians of a batch of `b` (and the CUDA-graph figures with `graphed`).
nlohmann::json BatchRow(const Args& args, const ModelConfig& cfg, const RuntimeOptions& rt, MivlaModel& model,
                        double decode_flops, GraphedSampler* graphed, int b) {
  const ModelInputs in = BatchInputs(args, cfg, rt, b);
  ConditionTokens cond;
  const double encode_ms = MedianMs(args.repeats, rt.device, [&] { cond = model->Encode(in); });
  const torch::Tensor noise = SampleNoise(b, cfg.decoder.action_horizon, action::kActionDim, 7, rt.device);
  const double decode_ms = MedianMs(args.repeats, rt.device, [&] {
    DecoderContext ctx = model->PrepareDecoding(cond);
    EulerSample(*model, ctx, noise, cfg.decoder.sampling_steps);
  });
#if MIVLA_HAVE_LEGACY_PROFILER
  if (!args.profile.empty() && b == args.batches.back()) {
    torch::autograd::profiler::RecordProfile guard(args.profile);
    DecoderContext ctx = model->PrepareDecoding(cond);
    EulerSample(*model, ctx, noise, cfg.decoder.sampling_steps);
  }
#endif
  nlohmann::json row = {{"batch", b},
                        {"encode_ms", encode_ms},
                        {"decode_ms", decode_ms},
                        {"decode_ms_per_sample", decode_ms / b},
                        {"achieved_gflops", decode_flops * b / (decode_ms * 1e-3) / 1e9}};
  if (graphed != nullptr) row["cuda_graph"] = CudaGraphJson(args, cfg, rt, model, *graphed, cond, noise);
  if (!args.json) {
    std::fprintf(stderr, "batch %3d: encode %8.2f ms  decode %8.2f ms  (%.1f GFLOP/s)\n", b, encode_ms, decode_ms,
                 row["achieved_gflops"].get<double>());
  }
  return row;
}

// The targets, when batches 1 and 16 were both measured; null otherwise.
nlohmann::json TargetsJson(const nlohmann::json& rows, double peak_gflops) {
  const nlohmann::json* b1 = nullptr;
  const nlohmann::json* b16 = nullptr;
  for (const auto& r : rows) {
    if (r["batch"] == 1) b1 = &r;
    if (r["batch"] == 16) b16 = &r;
  }
  if (!b1 || !b16) return nullptr;
  const double frac = (*b16)["achieved_gflops"].get<double>() / peak_gflops;
  const double ratio = (*b16)["decode_ms_per_sample"].get<double>() / (*b1)["decode_ms_per_sample"].get<double>();
  return {{"decode_b16_fraction_of_peak", frac},
          {"decode_b16_fraction_of_peak_target", 0.40},
          {"per_sample_decode_b16_over_b1", ratio},
          {"per_sample_decode_b16_over_b1_target", 0.5},
          {"met", frac >= 0.40 && ratio <= 0.5}};
}

int Run(const Args& args) {
  const auto [cfg, rt] = ConfigAndRuntimeOrUsage(args);
  // LibTorch's own intra-op pool stays at its default unless asked: OpenBLAS (pthreads) already
  // parallelises the GEMMs, and a second pool of the same size oversubscribes a small CPU.
  if (args.threads > 0) torch::set_num_threads(args.threads);
  torch::manual_seed(0);
  MivlaModel model(cfg);
  model->to(rt.device);
  model->eval();
  const FlopCount flops = CountFlops(cfg, args.views, kTextTokens);
  nlohmann::json out = HeaderJson(args, cfg, rt, model, flops);
  torch::InferenceMode inference;
  AutocastGuard autocast(rt);
  std::unique_ptr<GraphedSampler> graphed;
  if (args.cuda_graphs) {
    auto s = GraphedSampler::Create(model, rt.device, GraphedSampler::Mode::kCudaGraph,
                                    *std::max_element(args.batches.begin(), args.batches.end()));
    if (!s.ok()) Usage(std::string(s.status().message()));
    graphed = *std::move(s);
  }
  nlohmann::json rows = nlohmann::json::array();
  for (int b : args.batches) rows.push_back(BatchRow(args, cfg, rt, model, flops.decode_total, graphed.get(), b));
  out["rows"] = rows;
  if (nlohmann::json t = TargetsJson(rows, out["matmul_peak_gflops"].get<double>()); !t.is_null()) {
    out["targets"] = t;
  }
  std::string text = out.dump(args.json ? -1 : 2);
  std::cout << text << std::endl;
  if (!args.out.empty()) std::ofstream(args.out) << text << "\n";
  return 0;
}

}  // namespace
}  // namespace mivla::model

int main(int argc, char** argv) { return mivla::model::Run(mivla::model::Parse(argc, argv)); }
