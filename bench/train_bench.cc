// mivla-bench-train: what limits training. Measures, on a small dataset made by mivla-datagen (or
// --data DIR), the data loader alone (samples/s of Next() with its worker threads), the training loop
// (samples/s of full steps: data + forward + backward + optimiser, through the Trainer), and the mean
// step time split. Target on the 2-core CPU machine: the loader alone at least 2x the training rate.
//
//   mivla-bench-train --config tiny|base [--json] [--device cpu|cuda|auto] [--precision fp32|bf16]
//                     [--batch-size 16] [--workers 2] [--steps 20] [--warmup 3] [--data DIR] [--out FILE]
//
// Prints one JSON object (with --json; a short table otherwise).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/model/runtime.h"
#include "core/util/flag_parser.h"
#include "core/util/log.h"
#include "core/util/malloc_tuning.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"
#include "trainer/train/data_setup.h"
#include "trainer/train/model_setup.h"
#include "trainer/train/trainer.h"

namespace mivla::trainer {
namespace {
namespace fs = std::filesystem;

int Fail(const std::string& what) {
  std::fprintf(stderr, "mivla-bench-train: %s\n", what.c_str());
  return 1;
}

// A robot (PiPER, RoboTwin layout) and a human (EgoDex layout) press_bell dataset, made once.
bool MakeData(const std::string& dir) {
  for (const char* e : {"piper", "human"}) {
    const std::string cmd = absl::StrCat(MIVLA_DATAGEN_BIN, " --task press_bell --embodiment ", e,
                                         " --episodes 6 --workers 2 --no-progress --out ", dir, "/", e, " > /dev/null");
    if (std::system(cmd.c_str()) != 0) return false;
  }
  return true;
}

struct TrainBenchArgs {
  std::string config_name = "tiny", device = "cpu", precision = "fp32", data_dir, out;
  int64_t batch = 16, workers = 2, steps = 20, warmup = 3;
  bool json = false, help = false;
};

// The flags; an exit code when the program should end here (2: a bad flag, 0: --help printed).
std::optional<int> ParseTrainBenchArgs(int argc, char** argv, TrainBenchArgs* a) {
  FlagParser p("mivla-bench-train --config tiny|base [--json] [flags]");
  p.AddString("config", &a->config_name, "model config");
  p.AddString("device", &a->device, "cpu, cuda, cuda:N, auto");
  p.AddString("precision", &a->precision, "fp32, bf16 (CUDA)");
  p.AddInt("batch-size", &a->batch, "samples per step");
  p.AddInt("workers", &a->workers, "data loader threads");
  p.AddInt("steps", &a->steps, "measured training steps (and 4x as many loader batches)");
  p.AddInt("warmup", &a->warmup, "unmeasured steps first");
  p.AddString("data", &a->data_dir, "dataset directory (default: made by mivla-datagen under build/bench/train_data)");
  p.AddString("out", &a->out, "also write the JSON here");
  p.AddBool("json", &a->json, "print JSON");
  p.AddBool("help", &a->help, "this text", false);
  if (absl::Status s = p.Parse(std::vector<std::string>(argv + 1, argv + argc)); !s.ok()) {
    std::fprintf(stderr, "mivla-bench-train: %s\n%s", std::string(s.message()).c_str(), p.Usage().c_str());
    return 2;
  }
  if (a->help) {
    std::printf("%s", p.Usage().c_str());
    return 0;
  }
  return std::nullopt;
}

// The training run the benchmark times, on a.data_dir.
absl::StatusOr<TrainConfig> BenchTrainConfig(const TrainBenchArgs& a) {
  TrainConfig c;
  c.name = "bench";
  c.model = a.config_name;
  c.device = a.device;
  c.precision = a.precision;
  c.batch_size = a.batch;
  c.workers = a.workers;
  c.steps = a.warmup + a.steps;
  c.output_dir = (fs::temp_directory_path() / absl::StrCat("mivla_bench_train_", ::getpid())).string();
  c.tokenizer = MIVLA_DEFAULT_TOKENIZER;
  c.sources = {{"robot", a.data_dir + "/piper", 1.0, "piper"}, {"human", a.data_dir + "/human", 1.0, "aloha"}};
  c.cache_dir = a.data_dir + "/complement_cache";
  if (!fs::exists(a.data_dir + "/piper")) c.sources = {{"data", a.data_dir, 1.0, "aloha"}};
  RETURN_IF_ERROR(ValidateTrainConfig(c, "bench"));
  return c;
}

using Clock = std::chrono::steady_clock;

// Seconds the loader alone takes for `batches` batches, after `warmup` unmeasured ones.
absl::StatusOr<double> TimeLoader(DataLoader& loader, int64_t warmup, int64_t batches) {
  for (int64_t i = 0; i < warmup; ++i) RETURN_IF_ERROR(loader.Next().status());
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < batches; ++i) RETURN_IF_ERROR(loader.Next().status());
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Sums over the measured training steps, seconds.
struct StepTimes {
  double total = 0, data = 0, forward = 0, backward = 0, optimizer = 0;
};

// `steps` training steps after `warmup` unmeasured ones.
absl::StatusOr<StepTimes> TimeTrainingSteps(Trainer& trainer, int64_t warmup, int64_t steps) {
  for (int64_t i = 0; i < warmup; ++i) RETURN_IF_ERROR(trainer.Step().status());
  StepTimes t;
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    ASSIGN_OR_RETURN(const StepRecord r, trainer.Step());
    t.data += r.data_s, t.forward += r.forward_s, t.backward += r.backward_s, t.optimizer += r.optimizer_s;
  }
  t.total = std::chrono::duration<double>(Clock::now() - t0).count();
  return t;
}

nlohmann::json ResultJson(const TrainBenchArgs& a, const model::RuntimeOptions& runtime, DataLoader& loader,
                          int64_t loader_batches, double loader_rate, const StepTimes& t) {
  const double train_rate = a.steps * a.batch / t.total;
  const double ratio = loader_rate / train_rate;
  const double n = static_cast<double>(a.steps);
  nlohmann::json j = {{"config", a.config_name},
                      {"device", model::DescribeDevice(runtime)},
                      {"batch_size", a.batch},
                      {"workers", a.workers},
                      {"steps", a.steps},
                      {"threads", torch::get_num_threads()},
                      {"allocator", AllocatorName()},
                      {"data", {{"dir", a.data_dir}, {"report", LoadReportJson(loader.report())}}},
                      {"loader", {{"batches", loader_batches}, {"samples_per_s", loader_rate}}},
                      {"train",
                       {{"samples_per_s", train_rate},
                        {"step_s",
                         {{"total", t.total / n},
                          {"data", t.data / n},
                          {"forward", t.forward / n},
                          {"backward", t.backward / n},
                          {"optimizer", t.optimizer / n}}}}},
                      {"target",
                       {{"name", "loader alone >= 2x the training rate"},
                        {"ratio", ratio},
                        {"required", 2.0},
                        {"pass", ratio >= 2.0}}}};
  j["data"]["report"].erase("skipped");
  return j;
}

int Main(int argc, char** argv) {
  TrainBenchArgs a;
  if (std::optional<int> exit = ParseTrainBenchArgs(argc, argv, &a)) return *exit;
  SetLogQuiet(true);
  auto runtime = model::ParseRuntimeOptions(a.device, a.precision);
  if (!runtime.ok()) return Fail(runtime.status().ToString());
  if (a.data_dir.empty()) {
    a.data_dir = MIVLA_BENCH_DEFAULT_DATA_DIR;
    if (!MakeData(a.data_dir)) return Fail("mivla-datagen failed");
  }
  absl::StatusOr<TrainConfig> c = BenchTrainConfig(a);
  if (!c.ok()) return Fail(c.status().ToString());
  auto initial = BuildInitialModel(*c, TrainMode::kPretrain);
  if (!initial.ok()) return Fail(initial.status().ToString());
  auto lo = MakeLoaderOptions(*c, initial->model->config(), 0, 1, nullptr);
  if (!lo.ok()) return Fail(lo.status().ToString());
  auto loader = DataLoader::Create(*lo);
  if (!loader.ok()) return Fail(loader.status().ToString());

  // 1. The loader alone: 4x as many batches as training steps, after `warmup` batches.
  const int64_t loader_batches = 4 * a.steps;
  absl::StatusOr<double> loader_s = TimeLoader(**loader, a.warmup, loader_batches);
  if (!loader_s.ok()) return Fail(loader_s.status().ToString());
  const double loader_rate = loader_batches * a.batch / *loader_s;

  // 2. Training steps through the Trainer (data from the same loader, prefetching meanwhile).
  LoaderBatchSource source(loader->get());
  TrainerOptions o;
  o.config = *c;
  o.model = initial->model;
  o.runtime = *runtime;
  o.data = &source;
  o.normalization = (*loader)->normalization();
  o.progress = false;
  auto trainer = Trainer::Create(std::move(o));
  if (!trainer.ok()) return Fail(trainer.status().ToString());
  absl::StatusOr<StepTimes> times = TimeTrainingSteps(**trainer, a.warmup, a.steps);
  if (!times.ok()) return Fail(times.status().ToString());
  std::error_code ec;
  fs::remove_all(c->output_dir, ec);

  const nlohmann::json j = ResultJson(a, *runtime, **loader, loader_batches, loader_rate, *times);
  if (!a.out.empty()) std::ofstream(a.out) << j.dump(2) << "\n";
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    const double n = static_cast<double>(a.steps);
    const double ratio = j["target"]["ratio"].get<double>();
    std::printf(
        "loader alone: %.1f samples/s; training: %.1f samples/s (step %.3f s: data %.3f, forward %.3f, "
        "backward %.3f, optimiser %.3f); loader/train %.1fx (target >= 2x: %s)\n",
        loader_rate, j["train"]["samples_per_s"].get<double>(), times->total / n, times->data / n, times->forward / n,
        times->backward / n, times->optimizer / n, ratio, ratio >= 2 ? "met" : "missed");
  }
  return 0;
}

}  // namespace
}  // namespace mivla::trainer

int main(int argc, char** argv) { return mivla::trainer::Main(argc, argv); }
