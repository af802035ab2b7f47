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
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/model/runtime.h"
#include "core/util/flag_parser.h"
#include "core/util/log.h"
#include "core/util/malloc_tuning.h"
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

int Main(int argc, char** argv) {
  std::string config_name = "tiny", device = "cpu", precision = "fp32", data_dir, out;
  int64_t batch = 16, workers = 2, steps = 20, warmup = 3;
  bool json = false, help = false;
  FlagParser p("mivla-bench-train --config tiny|base [--json] [flags]");
  p.AddString("config", &config_name, "model config");
  p.AddString("device", &device, "cpu, cuda, cuda:N, auto");
  p.AddString("precision", &precision, "fp32, bf16 (CUDA)");
  p.AddInt("batch-size", &batch, "samples per step");
  p.AddInt("workers", &workers, "data loader threads");
  p.AddInt("steps", &steps, "measured training steps (and 4x as many loader batches)");
  p.AddInt("warmup", &warmup, "unmeasured steps first");
  p.AddString("data", &data_dir, "dataset directory (default: made by mivla-datagen under build/bench/train_data)");
  p.AddString("out", &out, "also write the JSON here");
  p.AddBool("json", &json, "print JSON");
  p.AddBool("help", &help, "this text", false);
  if (absl::Status s = p.Parse(std::vector<std::string>(argv + 1, argv + argc)); !s.ok()) {
    std::fprintf(stderr, "mivla-bench-train: %s\n%s", std::string(s.message()).c_str(), p.Usage().c_str());
    return 2;
  }
  if (help) {
    std::printf("%s", p.Usage().c_str());
    return 0;
  }
  SetLogQuiet(true);
  auto runtime = model::ParseRuntimeOptions(device, precision);
  if (!runtime.ok()) return Fail(runtime.status().ToString());

  TrainConfig c;
  c.name = "bench";
  c.model = config_name;
  c.device = device;
  c.precision = precision;
  c.batch_size = batch;
  c.workers = workers;
  c.steps = warmup + steps;
  c.output_dir = (fs::temp_directory_path() / absl::StrCat("mivla_bench_train_", ::getpid())).string();
  c.tokenizer = MIVLA_DEFAULT_TOKENIZER;
  if (data_dir.empty()) {
    data_dir = MIVLA_BENCH_DEFAULT_DATA_DIR;
    if (!MakeData(data_dir)) return Fail("mivla-datagen failed");
  }
  c.sources = {{"robot", data_dir + "/piper", 1.0, "piper"}, {"human", data_dir + "/human", 1.0, "aloha"}};
  c.cache_dir = data_dir + "/complement_cache";
  if (!fs::exists(data_dir + "/piper")) c.sources = {{"data", data_dir, 1.0, "aloha"}};
  if (absl::Status s = ValidateTrainConfig(c, "bench"); !s.ok()) return Fail(s.ToString());

  auto initial = BuildInitialModel(c, TrainMode::kPretrain);
  if (!initial.ok()) return Fail(initial.status().ToString());
  auto lo = MakeLoaderOptions(c, initial->model->config(), 0, 1, nullptr);
  if (!lo.ok()) return Fail(lo.status().ToString());
  auto loader = DataLoader::Create(*lo);
  if (!loader.ok()) return Fail(loader.status().ToString());

  // 1. The loader alone: 4x as many batches as training steps, after `warmup` batches.
  using Clock = std::chrono::steady_clock;
  const int64_t loader_batches = 4 * steps;
  for (int64_t i = 0; i < warmup; ++i) {
    if (auto b = (*loader)->Next(); !b.ok()) return Fail(b.status().ToString());
  }
  auto t0 = Clock::now();
  for (int64_t i = 0; i < loader_batches; ++i) {
    if (auto b = (*loader)->Next(); !b.ok()) return Fail(b.status().ToString());
  }
  const double loader_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double loader_rate = loader_batches * batch / loader_s;

  // 2. Training steps through the Trainer (data from the same loader, prefetching meanwhile).
  LoaderBatchSource source(loader->get());
  TrainerOptions o;
  o.config = c;
  o.model = initial->model;
  o.runtime = *runtime;
  o.data = &source;
  o.normalization = (*loader)->normalization();
  o.progress = false;
  auto trainer = Trainer::Create(std::move(o));
  if (!trainer.ok()) return Fail(trainer.status().ToString());
  double data = 0, fwd = 0, bwd = 0, opt = 0;
  for (int64_t i = 0; i < warmup; ++i) {
    if (auto r = (*trainer)->Step(); !r.ok()) return Fail(r.status().ToString());
  }
  t0 = Clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    auto r = (*trainer)->Step();
    if (!r.ok()) return Fail(r.status().ToString());
    data += r->data_s, fwd += r->forward_s, bwd += r->backward_s, opt += r->optimizer_s;
  }
  const double train_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double train_rate = steps * batch / train_s;
  std::error_code ec;
  fs::remove_all(c.output_dir, ec);

  const double ratio = loader_rate / train_rate;
  nlohmann::json j = {{"config", config_name},
                      {"device", model::DescribeDevice(*runtime)},
                      {"batch_size", batch},
                      {"workers", workers},
                      {"steps", steps},
                      {"threads", torch::get_num_threads()},
                      {"allocator", AllocatorName()},
                      {"data", {{"dir", data_dir}, {"report", LoadReportJson((*loader)->report())}}},
                      {"loader", {{"batches", loader_batches}, {"samples_per_s", loader_rate}}},
                      {"train",
                       {{"samples_per_s", train_rate},
                        {"step_s",
                         {{"total", train_s / steps},
                          {"data", data / steps},
                          {"forward", fwd / steps},
                          {"backward", bwd / steps},
                          {"optimizer", opt / steps}}}}},
                      {"target",
                       {{"name", "loader alone >= 2x the training rate"},
                        {"ratio", ratio},
                        {"required", 2.0},
                        {"pass", ratio >= 2.0}}}};
  j["data"]["report"].erase("skipped");
  if (!out.empty()) std::ofstream(out) << j.dump(2) << "\n";
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("loader alone: %.1f samples/s; training: %.1f samples/s (step %.3f s: data %.3f, forward %.3f, "
                "backward %.3f, optimiser %.3f); loader/train %.1fx (target >= 2x: %s)\n",
                loader_rate, train_rate, train_s / steps, data / steps, fwd / steps, bwd / steps, opt / steps, ratio,
                ratio >= 2 ? "met" : "missed");
  }
  return 0;
}

}  // namespace
}  // namespace mivla::trainer

int main(int argc, char** argv) { return mivla::trainer::Main(argc, argv); }
