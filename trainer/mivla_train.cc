// mivla-train: pre-training (mutual imitation) and fine-tuning of MiVLA. See trainer/README.md.
//
//   mivla-train pretrain --config trainer/configs/tiny_pretrain.json [--steps N] [--resume] ...
//   mivla-train finetune --config trainer/configs/tiny_finetune.json [--init-checkpoint F] ...
//   RANK=r WORLD_SIZE=n MASTER_ADDR=host MASTER_PORT=p mivla-train pretrain ...   (data parallel)
//   mivla-train ablation --config trainer/configs/ablation_tiny.json [--budget-minutes M] ...  (ablation/)
//   mivla-train export --checkpoint IN.mivla --out OUT.mivla [--weights-dtype f16|bf16|f32]
//   mivla-train average --out OUT.mivla --version V IN.mivla IN.mivla ...  (mean of the weights)
//
// Exit codes: 0 done (or stopped by SIGINT/SIGTERM after a checkpoint), 1 a run error, 2 bad flags or
// configuration (the message names the flag, or the file and the field).
#include <torch/torch.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/checkpoint/model_checkpoint.h"
#include "core/model/runtime.h"
#include "core/util/flag_parser.h"
#include "core/util/log.h"
#include "core/util/malloc_tuning.h"
#include "trainer/ablation/ablation_cli.h"
#include "trainer/train/checkpoint_average.h"
#include "trainer/train/data_setup.h"
#include "trainer/train/distributed.h"
#include "trainer/train/model_setup.h"
#include "trainer/train/train_config.h"
#include "trainer/train/train_state.h"
#include "trainer/train/trainer.h"

namespace mivla::trainer {
namespace {

std::atomic<Trainer*> g_trainer{nullptr};

void OnSignal(int) {
  if (Trainer* t = g_trainer.load()) t->RequestStop();
}

struct Cli {
  std::string command, config_path;
  bool resume = false, progress = true;
  TrainConfig config;
};

int Usage(const FlagParser& p, const std::string& error) {
  std::fprintf(stderr, "mivla-train: %s\n%s", error.c_str(), p.Usage().c_str());
  return 2;
}

/// Writes `bundle` to `out` with its weights stored as `dtype` (through the checkpoint's
/// temporary-file-then-rename write) and prints one JSON line: `report` plus the output's facts.
int WriteBundle(const char* command, checkpoint::PolicyBundle& bundle, const std::string& out,
                checkpoint::WeightsDtype dtype, nlohmann::json report) {
  bundle.metadata["weights_dtype"] = std::string(checkpoint::WeightsDtypeName(dtype));
  checkpoint::SaveOptions options;
  options.weights_dtype = dtype;
  if (absl::Status s = checkpoint::SaveModelCheckpoint(out, bundle, options); !s.ok()) {
    LogError(command, s.ToString());
    return 1;
  }
  std::error_code ec;
  report["out"] = out;
  report["model_version"] = bundle.model_version;
  report["weights_dtype"] = std::string(checkpoint::WeightsDtypeName(dtype));
  report["bytes_out"] = std::filesystem::file_size(out, ec);
  std::printf("%s\n", report.dump().c_str());
  return 0;
}

/// The exit code for a failed load: 2 when a named input does not exist, 1 otherwise.
int LoadFailure(const char* command, const absl::Status& s) {
  LogError(command, s.ToString());
  return s.code() == absl::StatusCode::kNotFound ? 2 : 1;
}

/// `mivla-train export`: a checkpoint rewritten (same model, version, metadata) with its weights stored
/// as F16, BF16 or F32.
int ExportMain(const std::vector<std::string>& args) {
  std::string in, out, dtype_name = "f16";
  bool help = false;
  FlagParser p("mivla-train export --checkpoint IN.mivla --out OUT.mivla [--weights-dtype f16|bf16|f32]");
  p.AddString("checkpoint", &in, "the checkpoint to export");
  p.AddString("out", &out, "the file to write (replaced atomically)");
  p.AddString("weights-dtype", &dtype_name, "how the weights are stored: f16 (half the size), bf16 or f32");
  p.AddBool("help", &help, "this text", false);
  if (absl::Status s = p.Parse(args); !s.ok()) return Usage(p, std::string(s.message()));
  if (help) {
    std::printf("%s", p.Usage().c_str());
    return 0;
  }
  if (!p.positional().empty()) return Usage(p, absl::StrCat("unexpected argument '", p.positional()[0], "'"));
  if (in.empty() || out.empty()) return Usage(p, "--checkpoint IN and --out OUT are required");
  auto dtype = checkpoint::ParseWeightsDtype(dtype_name);
  if (!dtype.ok()) return Usage(p, absl::StrCat("--weights-dtype: ", dtype.status().message()));
  auto bundle = checkpoint::LoadModelCheckpoint(in);
  if (!bundle.ok()) return LoadFailure("export", bundle.status());
  std::error_code ec;
  return WriteBundle("export", *bundle, out, *dtype,
                     {{"checkpoint", in}, {"bytes_in", std::filesystem::file_size(in, ec)}});
}

/// `mivla-train average`: the uniform mean of several checkpoints of one model (checkpoint_average.h).
int AverageMain(const std::vector<std::string>& args) {
  std::string out, version, dtype_name = "f32";
  bool help = false;
  FlagParser p("mivla-train average --out OUT.mivla --version V [--weights-dtype f32|f16|bf16] IN.mivla IN.mivla ...");
  p.AddString("out", &out, "the file to write (replaced atomically)");
  p.AddString("version", &version, "the averaged model's version (what the server reports)");
  p.AddString("weights-dtype", &dtype_name, "how the weights are stored: f32, f16 (half the size) or bf16");
  p.AddBool("help", &help, "this text", false);
  if (absl::Status s = p.Parse(args); !s.ok()) return Usage(p, std::string(s.message()));
  if (help) {
    std::printf("%s", p.Usage().c_str());
    return 0;
  }
  if (out.empty() || version.empty()) return Usage(p, "--out OUT and --version V are required");
  if (p.positional().size() < 2) return Usage(p, "give at least two checkpoints to average");
  auto dtype = checkpoint::ParseWeightsDtype(dtype_name);
  if (!dtype.ok()) return Usage(p, absl::StrCat("--weights-dtype: ", dtype.status().message()));
  auto bundle = AverageCheckpoints(p.positional(), version);
  if (!bundle.ok()) return LoadFailure("average", bundle.status());
  return WriteBundle("average", *bundle, out, *dtype, {{"checkpoints", p.positional()}});
}

std::string SelfPath(const char* argv0) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(argv0) : p.string();
}

int Main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "ablation") {
    return ablation::AblationMain(std::vector<std::string>(argv + 2, argv + argc), SelfPath(argv[0]));
  }
  if (argc >= 2 && std::string(argv[1]) == "export") {
    return ExportMain(std::vector<std::string>(argv + 2, argv + argc));
  }
  if (argc >= 2 && std::string(argv[1]) == "average") {
    return AverageMain(std::vector<std::string>(argv + 2, argv + argc));
  }
  Cli cli;
  std::string output_dir, device, precision, init_checkpoint, name;
  int64_t steps = 0, batch_size = 0, workers = 0, seed = 0, checkpoint_every = 0, keep_last = 0, log_every = 0;
  double lr = 0;
  bool help = false;
  FlagParser p(
      "mivla-train pretrain|finetune --config FILE [flags]  (flags without a default override the file)\n"
      "       mivla-train ablation --config FILE [--budget-minutes M] [--only GLOB] [--dry-run]  (--help)\n"
      "       mivla-train export --checkpoint IN --out OUT [--weights-dtype f16|bf16|f32]\n"
      "       mivla-train average --out OUT --version V [--weights-dtype f32|f16|bf16] IN IN ...");
  p.AddString("config", &cli.config_path, "training configuration (JSON; trainer/configs/ has examples)");
  p.AddBool("resume", &cli.resume, "continue from the newest checkpoint + state in output_dir (fresh if none)");
  p.AddBool("progress", &cli.progress, "progress bar / lines on stderr");
  p.AddString("output-dir", &output_dir, "model directory (checkpoints, state, logs)", false);
  p.AddString("name", &name, "checkpoint name prefix", false);
  p.AddString("init-checkpoint", &init_checkpoint, "finetune: the pre-trained checkpoint", false);
  p.AddString("device", &device, "cpu, cuda, cuda:N, auto", false);
  p.AddString("precision", &precision, "fp32, bf16 (CUDA autocast)", false);
  p.AddInt("steps", &steps, "train until this step", false);
  p.AddInt("batch-size", &batch_size, "samples per rank per step", false);
  p.AddInt("workers", &workers, "data loader threads", false);
  p.AddInt("seed", &seed, "seed of everything", false);
  p.AddDouble("lr", &lr, "peak learning rate", false);
  p.AddInt("checkpoint-every", &checkpoint_every, "steps between checkpoints", false);
  p.AddInt("keep-last", &keep_last, "checkpoints kept", false);
  p.AddInt("log-every", &log_every, "steps between log lines / CSV rows", false);
  p.AddBool("help", &help, "this text", false);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (absl::Status s = p.Parse(args); !s.ok()) return Usage(p, std::string(s.message()));
  if (help) {
    std::printf("%s", p.Usage().c_str());
    return 0;
  }
  if (p.positional().size() != 1 || (p.positional()[0] != "pretrain" && p.positional()[0] != "finetune")) {
    return Usage(p, "expected one command: pretrain, finetune, ablation, export or average");
  }
  cli.command = p.positional()[0];
  if (cli.config_path.empty()) return Usage(p, "--config FILE is required");
  auto loaded = LoadTrainConfig(cli.config_path);
  if (!loaded.ok()) return Usage(p, std::string(loaded.status().message()));
  TrainConfig& c = cli.config = *loaded;
  if (p.seen("output-dir")) c.output_dir = output_dir;
  if (p.seen("name")) c.name = name;
  if (p.seen("init-checkpoint")) c.init_checkpoint = init_checkpoint;
  if (p.seen("device")) c.device = device;
  if (p.seen("precision")) c.precision = precision;
  if (p.seen("steps")) c.steps = steps;
  if (p.seen("batch-size")) c.batch_size = batch_size;
  if (p.seen("workers")) c.workers = workers;
  if (p.seen("seed")) c.seed = static_cast<uint64_t>(seed);
  if (p.seen("lr")) c.lr = lr;
  if (p.seen("checkpoint-every")) c.checkpoint_every = checkpoint_every;
  if (p.seen("keep-last")) c.keep_last = keep_last;
  if (p.seen("log-every")) c.log_every = log_every;
  if (absl::Status s = ValidateTrainConfig(c, cli.config_path); !s.ok()) return Usage(p, std::string(s.message()));
  const TrainMode mode = cli.command == "finetune" ? TrainMode::kFinetune : TrainMode::kPretrain;

  auto dist_options = DistributedOptionsFromEnv();
  if (!dist_options.ok()) return Usage(p, std::string(dist_options.status().message()));
  std::string device_name = c.device;
  if (const char* local = std::getenv("LOCAL_RANK"); local != nullptr && (c.device == "cuda" || c.device == "auto") &&
                                                      torch::cuda::is_available()) {
    device_name = absl::StrCat("cuda:", local);
  }
  auto runtime = model::ParseRuntimeOptions(device_name, c.precision);
  if (!runtime.ok()) return Usage(p, absl::StrCat(cli.config_path, ": device/precision: ", runtime.status().message()));

  if (auto tok = ResolveTokenizerModel(c, mode); !tok.ok()) {
    return Usage(p, absl::StrCat(cli.config_path, ": ", tok.status().message()));
  }
  auto fail = [](const absl::Status& s) {
    LogError("train", s.ToString());
    return 1;
  };
  auto initial = BuildInitialModel(c, mode);
  if (!initial.ok()) return fail(initial.status());
  auto dist = Distributed::Create(*dist_options, runtime->device);
  if (!dist.ok()) return fail(dist.status());
  const bool main_rank = (*dist)->is_main();
  if (!main_rank) SetLogQuiet(true);
  LogInfo("train", absl::StrCat(cli.command, " ", initial->origin, " on ", model::DescribeDevice(*runtime), ", rank ",
                                (*dist)->rank(), "/", (*dist)->world_size(), " (", (*dist)->backend(),
                                "), memory allocator ", AllocatorName()));

  const action::NormalizationStats* given = initial->normalization ? &*initial->normalization : nullptr;
  auto loader_options = MakeLoaderOptions(c, initial->model->config(), (*dist)->rank(), (*dist)->world_size(), given);
  if (!loader_options.ok()) return Usage(p, absl::StrCat(cli.config_path, ": ", loader_options.status().message()));
  loader_options->tokenizer_model = initial->tokenizer_model;  // the one stored in every checkpoint
  loader_options->on_progress = [](const std::string& line) { LogInfo("data", line); };
  auto loader = DataLoader::Create(*loader_options);
  if (!loader.ok()) return fail(loader.status());
  const nlohmann::json report = LoadReportJson((*loader)->report());
  for (const auto& s : report["sources"]) LogInfo("data", absl::StrCat("source ", s.dump()));
  for (const auto& e : report["skipped"]) {
    LogWarning("data", absl::StrCat("skipped episode ", e["path"].get<std::string>(), ": ", e["reason"].get<std::string>()));
  }
  LoaderBatchSource source(loader->get());

  TrainerOptions o;
  o.config = c;
  o.model = initial->model;
  o.runtime = *runtime;
  o.data = &source;
  o.dist = dist->get();
  o.normalization = (*loader)->normalization();
  o.tokenizer_model = initial->tokenizer_model;
  o.metadata["data"] = report.dump();
  auto fingerprint = DataFingerprint(c);
  if (!fingerprint.ok()) return fail(fingerprint.status());
  o.data_fingerprint = *fingerprint;
  o.init_fingerprint = initial->init_fingerprint;
  o.metadata["mode"] = cli.command;
  o.metadata["init"] = initial->origin;
  o.progress = cli.progress;
  auto trainer = Trainer::Create(std::move(o));
  if (!trainer.ok()) return fail(trainer.status());
  if (cli.resume) {
    absl::Status s = (*trainer)->Resume();
    if (s.code() == absl::StatusCode::kNotFound) {
      LogInfo("train", absl::StrCat(s.message(), "; starting at step 0"));
    } else if (!s.ok()) {
      return fail(s);
    }
  }
  g_trainer.store(trainer->get());
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto summary = (*trainer)->Run();
  g_trainer.store(nullptr);
  if (!summary.ok()) return fail(summary.status());
  if (main_rank) {
    nlohmann::json j = {{"command", cli.command}, {"config", TrainConfigToJson(c)}, {"init", initial->origin},
                        {"device", model::DescribeDevice(*runtime)}, {"world_size", (*dist)->world_size()},
                        {"backend", (*dist)->backend()}, {"first_step", summary->first_step},
                        {"last_step", summary->last_step}, {"stopped", summary->stopped},
                        {"first_loss", summary->first_loss}, {"last_loss", summary->last_loss},
                        {"seconds", summary->seconds}, {"samples_per_s", summary->samples_per_s},
                        {"step_time_s", {{"data", summary->data_s}, {"forward", summary->forward_s},
                                         {"backward", summary->backward_s}, {"optimizer", summary->optimizer_s}}},
                        {"checkpoints", summary->checkpoints}, {"data", report}};
    const std::string path = (std::filesystem::path(c.output_dir) / "summary.json").string();
    if (absl::Status s = WriteFileAtomically(path, j.dump(2) + "\n"); !s.ok()) return fail(s);
    LogInfo("train", absl::StrCat("step ", summary->last_step, ", loss ", summary->first_loss, " -> ",
                                  summary->last_loss, ", ", summary->samples_per_s, " samples/s; ", path));
  }
  return 0;
}

}  // namespace
}  // namespace mivla::trainer

int main(int argc, char** argv) { return mivla::trainer::Main(argc, argv); }
