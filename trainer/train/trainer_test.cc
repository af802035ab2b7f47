// The training loop on synthetic batches (tiny model): a short run decreases the loss; a run killed
// after a checkpoint and resumed ends with exactly the weights of an uninterrupted run; checkpoints are
// named by step, rotated (keep last K), loadable whenever visible, and carry the step; a resume under
// another configuration is refused; the CSV log and the PNG curve are written; an unreadable training
// state is DATA_LOSS.
#include "trainer/train/trainer.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include <torch/torch.h>
#include <opencv2/imgcodecs.hpp>

#include "absl/strings/match.h"
#include "core/checkpoint/model_checkpoint.h"
#include "core/model/flow_matching.h"
#include "core/util/log.h"
#include "gtest/gtest.h"
#include "trainer/train/test_batches.h"
#include "trainer/train/train_state.h"

namespace mivla::trainer {
namespace {
namespace fs = std::filesystem;
using action::Embodiment;

std::string TempDir(const std::string& name) {
  fs::path p = fs::path(::testing::TempDir()) / ("trainer_test_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

TrainConfig SmallConfig(const std::string& dir, int64_t steps) {
  TrainConfig c;
  c.name = "t";
  c.output_dir = dir;
  c.device = "cpu";
  c.steps = steps;
  c.lr = 1e-3;
  c.warmup_steps = 3;
  c.weight_decay = 0.01;
  c.checkpoint_every = 1000;
  c.keep_last = 2;
  c.log_every = 1;
  c.seed = 7;
  return c;
}

model::ModelConfig TinyFrozen() {
  model::ModelConfig m = model::TinyConfig();
  m.freeze_vision = true;
  m.freeze_text = true;
  return m;
}

std::vector<TrainBatch> MixedBatches() {
  const std::vector<Embodiment> es = {Embodiment::kPiper, Embodiment::kAlohaAgilex, Embodiment::kHuman,
                                      Embodiment::kArx5};
  return {testing::SyntheticBatch(TinyFrozen(), es, 1), testing::SyntheticBatch(TinyFrozen(), es, 2)};
}

std::unique_ptr<Trainer> MakeTrainer(const TrainConfig& c, BatchSource* source, uint64_t init_seed,
                                     const std::string& init_fingerprint = "") {
  torch::manual_seed(init_seed);
  TrainerOptions o;
  o.config = c;
  o.config.freeze_vision = true;
  o.config.freeze_text = true;
  o.model = model::MivlaModel(TinyFrozen());
  o.data = source;
  o.progress = false;
  o.init_fingerprint = init_fingerprint;
  auto t = Trainer::Create(std::move(o));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

// Loss on fixed (noise, t) draws over both batches.
double EvalLoss(model::MivlaModelImpl& m, const std::vector<TrainBatch>& batches) {
  torch::NoGradGuard no_grad;
  double total = 0;
  int n = 0;
  for (const TrainBatch& b : batches) {
    model::DecoderContext ctx = m.PrepareDecoding(m.Encode(b.inputs));
    for (int r = 0; r < 8; ++r) {
      auto [t, noise] = StepNoise(1234, r, b.targets.actions.size(0), 0, b.targets.actions.size(0),
                                  b.targets.actions.size(1), 0.999);
      total += model::FlowMatchingLoss(m, ctx, b.targets, {}, noise, t).total.item<double>();
      ++n;
    }
  }
  return total / n;
}

TEST(TrainerTest, ShortRunDecreasesTheLoss) {
  SetLogQuiet(true);
  const std::string dir = TempDir("short");
  std::vector<TrainBatch> batches = MixedBatches();
  testing::FixedBatchSource source(batches);
  auto trainer = MakeTrainer(SmallConfig(dir, 40), &source, 1);
  ASSERT_NE(trainer, nullptr);
  const double before = EvalLoss(*trainer->model(), batches);
  trainer->model()->train();
  auto summary = trainer->Run();
  ASSERT_TRUE(summary.ok()) << summary.status();
  const double after = EvalLoss(*trainer->model(), batches);
  std::printf("short run: eval loss %.4f -> %.4f; logged %.4f -> %.4f; %.1f samples/s\n", before, after,
              summary->first_loss, summary->last_loss, summary->samples_per_s);
  EXPECT_LT(after, 0.7 * before);
  EXPECT_LT(summary->last_loss, summary->first_loss);
  EXPECT_EQ(summary->last_step, 40);
  // CSV: header + one row per step; PNG decodes.
  std::ifstream csv(fs::path(dir) / "train_log.csv");
  std::string line;
  int rows = -1;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 40);
  cv::Mat png = cv::imread((fs::path(dir) / "loss_curve.png").string());
  EXPECT_FALSE(png.empty());
}

TEST(TrainerTest, KilledAndResumedRunMatchesUninterruptedRun) {
  SetLogQuiet(true);
  std::vector<TrainBatch> batches = MixedBatches();
  // Uninterrupted: 6 steps.
  const std::string dir_a = TempDir("resume_a");
  testing::FixedBatchSource source_a(batches);
  auto a = MakeTrainer(SmallConfig(dir_a, 6), &source_a, 1);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Run().ok());

  // Killed: 3 steps, a checkpoint, one more step that is lost with the process.
  const std::string dir_b = TempDir("resume_b");
  {
    testing::FixedBatchSource source_b(batches);
    auto b = MakeTrainer(SmallConfig(dir_b, 6), &source_b, 1);
    ASSERT_NE(b, nullptr);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(b->Step().ok());
    ASSERT_TRUE(b->SaveCheckpoint().ok());
    ASSERT_TRUE(b->Step().ok());
  }
  // Resumed in a fresh trainer with other initial weights and a fresh data source.
  testing::FixedBatchSource source_c(batches);
  auto c = MakeTrainer(SmallConfig(dir_b, 6), &source_c, 99);
  ASSERT_NE(c, nullptr);
  EXPECT_GT(testing::MaxAbsDifference(*a->model(), *c->model()), 1e-3);
  ASSERT_TRUE(c->Resume().ok());
  EXPECT_EQ(c->step(), 3);
  EXPECT_EQ(source_c.next_index(), 3u);
  auto s = c->Run();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(c->step(), 6);
  const double diff = testing::MaxAbsDifference(*a->model(), *c->model());
  std::printf("resume: max |w_uninterrupted - w_resumed| = %.3g\n", diff);
  EXPECT_LE(diff, 1e-6);
}

TEST(TrainerTest, ResumeUnderAnotherConfigurationIsRefused) {
  SetLogQuiet(true);
  const std::string dir = TempDir("mismatch");
  std::vector<TrainBatch> batches = MixedBatches();
  testing::FixedBatchSource source(batches);
  auto a = MakeTrainer(SmallConfig(dir, 2), &source, 1);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Run().ok());
  TrainConfig other = SmallConfig(dir, 4);
  other.lr = 5e-4;
  testing::FixedBatchSource source2(batches);
  auto b = MakeTrainer(other, &source2, 1);
  ASSERT_NE(b, nullptr);
  absl::Status s = b->Resume();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  // Other data (the recorded fingerprints differ) is refused too.
  const std::string data_dir = TempDir("fingerprint");
  auto with_data = [&](const std::string& fingerprint, testing::FixedBatchSource* src) {
    torch::manual_seed(1);
    TrainerOptions o;
    o.config = SmallConfig(data_dir, 2);
    o.config.freeze_vision = o.config.freeze_text = true;
    o.model = model::MivlaModel(TinyFrozen());
    o.data = src;
    o.progress = false;
    o.data_fingerprint = fingerprint;
    auto t = Trainer::Create(std::move(o));
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::move(*t) : nullptr;
  };
  testing::FixedBatchSource source4(batches), source5(batches);
  auto first = with_data("data-a", &source4);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->Run().ok());
  auto second = with_data("data-b", &source5);
  ASSERT_NE(second, nullptr);
  absl::Status other_data = second->Resume();
  EXPECT_EQ(other_data.code(), absl::StatusCode::kFailedPrecondition) << other_data;
  EXPECT_NE(other_data.message().find("other data"), std::string::npos) << other_data;
  // More steps (and other output cadence) are allowed.
  testing::FixedBatchSource source3(batches);
  auto c = MakeTrainer(SmallConfig(dir, 4), &source3, 1);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->Resume().ok());
  EXPECT_EQ(c->step(), 2);
}

TEST(TrainerTest, CheckpointsRotateAndAreNeverVisibleHalfWritten) {
  SetLogQuiet(true);
  const std::string dir = TempDir("rotate");
  std::vector<TrainBatch> batches = MixedBatches();
  testing::FixedBatchSource source(batches);
  TrainConfig c = SmallConfig(dir, 8);
  c.checkpoint_every = 1;
  c.keep_last = 2;
  auto trainer = MakeTrainer(c, &source, 1);
  ASSERT_NE(trainer, nullptr);
  std::ofstream(CheckpointStem(dir, "t", 0) + ".state") << "killed before its .mivla";  // pruned below

  // A watcher loads every .mivla it sees while checkpoints are written and pruned: each one it can
  // open must load completely (a pruned file may vanish: NOT_FOUND is fine, anything else is not).
  std::atomic<bool> done{false};
  std::atomic<int> loaded{0}, bad{0};
  std::set<std::string> seen;
  std::thread watcher([&] {
    while (!done.load()) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string f = e.path().filename().string();
        if (e.path().extension() != ".mivla" || f[0] == '.') continue;
        auto b = checkpoint::LoadModelCheckpoint(e.path().string());
        if (b.ok()) {
          ++loaded;
          seen.insert(f);
        } else if (b.status().code() != absl::StatusCode::kNotFound) {
          ADD_FAILURE() << f << ": " << b.status();
          ++bad;
        }
      }
    }
  });
  auto summary = trainer->Run();
  done = true;
  watcher.join();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(loaded.load(), 0);
  EXPECT_EQ(summary->checkpoints.size(), 8u);
  EXPECT_EQ(ListCheckpointSteps(dir, "t"), (std::vector<int64_t>{7, 8}));
  EXPECT_FALSE(fs::exists(CheckpointStem(dir, "t", 0) + ".state"));
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
  auto last = checkpoint::LoadModelCheckpoint(CheckpointStem(dir, "t", 8) + ".mivla");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->model_version, "t-00000008");
  EXPECT_EQ(last->metadata["step"], "8");
  EXPECT_EQ(testing::MaxAbsDifference(*last->model, *trainer->model()), 0.0);
}

TEST(TrainerTest, ResumeFromAReplacedInitCheckpointIsRefused) {
  // Same configuration, same data, but the fine-tune's init checkpoint at the same path was rewritten
  // (its fingerprint differs): the state's weights descend from the old file.
  SetLogQuiet(true);
  const std::string dir = TempDir("init_replaced");
  std::vector<TrainBatch> batches = MixedBatches();
  testing::FixedBatchSource source_a(batches);
  auto a = MakeTrainer(SmallConfig(dir, 2), &source_a, 1, "00000000000000aa");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Run().ok());
  testing::FixedBatchSource source_b(batches);
  auto b = MakeTrainer(SmallConfig(dir, 2), &source_b, 1, "00000000000000bb");
  ASSERT_NE(b, nullptr);
  const absl::Status s = b->Resume();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "init_checkpoint")) << s;
  testing::FixedBatchSource source_c(batches);
  auto same = MakeTrainer(SmallConfig(dir, 2), &source_c, 1, "00000000000000aa");
  ASSERT_NE(same, nullptr);
  EXPECT_TRUE(same->Resume().ok());
}

TEST(TrainerTest, StepNoiseIsAFunctionOfSeedStepAndPosition) {
  auto [t_all, n_all] = StepNoise(3, 5, 8, 0, 8, 16, 0.999);
  auto [t_hi, n_hi] = StepNoise(3, 5, 8, 4, 4, 16, 0.999);
  EXPECT_TRUE(torch::equal(t_all.slice(0, 4, 8), t_hi));
  EXPECT_TRUE(torch::equal(n_all.slice(0, 4, 8), n_hi));
  auto [t_next, n_next] = StepNoise(3, 6, 8, 0, 8, 16, 0.999);
  EXPECT_FALSE(torch::equal(t_all, t_next));
  EXPECT_LT(t_all.max().item<double>(), 0.999);
}

TEST(TrainerTest, AnUnreadableTrainingStateIsDataLossNamingThePath) {
  const std::string path = TempDir("unreadable_state") + "/t-1.state";
  std::ofstream(path, std::ios::binary) << "not a LibTorch archive";
  torch::nn::Linear net(2, 2);
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.1));
  absl::StatusOr<TrainStateInfo> info = LoadTrainState(path, *net, sgd);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), absl::StatusCode::kDataLoss) << info.status();
  EXPECT_TRUE(absl::StartsWith(info.status().message(), path + ": cannot read the training state: ")) << info.status();
  EXPECT_FALSE(absl::StrContains(info.status().message(), "Exception raised from")) << info.status();  // no backtrace
}

TEST(TrainerTest, AStateResumesOnTheRunsDeviceWhicheverDeviceWroteIt) {
  // A state written on the CPU and resumed on a GPU (or by another rank's GPU): the optimiser's moments
  // must land beside the parameters, or the first step fails on mixed devices.
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const std::string path = TempDir("state_device") + "/t-1.state";
  torch::manual_seed(1);
  torch::nn::Linear cpu_net(3, 2);
  torch::optim::AdamW cpu_opt(cpu_net->parameters(), torch::optim::AdamWOptions(1e-3));
  cpu_net(torch::ones({4, 3})).sum().backward();
  cpu_opt.step();
  ASSERT_TRUE(SaveTrainState(path, TrainStateInfo{}, *cpu_net, cpu_opt).ok());
  torch::nn::Linear gpu_net(3, 2);
  gpu_net->to(torch::kCUDA);
  torch::optim::AdamW gpu_opt(gpu_net->parameters(), torch::optim::AdamWOptions(1e-3));
  ASSERT_TRUE(LoadTrainState(path, *gpu_net, gpu_opt, torch::kCUDA).ok());
  ASSERT_FALSE(gpu_opt.state().empty());
  for (const auto& [key, state] : gpu_opt.state()) {
    EXPECT_TRUE(static_cast<torch::optim::AdamWParamState&>(*state).exp_avg().is_cuda()) << key;
  }
  for (const torch::Tensor& p : gpu_net->parameters()) EXPECT_TRUE(p.is_cuda());
  gpu_net(torch::ones({4, 3}, torch::kCUDA)).sum().backward();
  gpu_opt.step();  // mixed devices would throw here
}

}  // namespace
}  // namespace mivla::trainer
