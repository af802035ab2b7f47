// Data parallel on c10d: two processes (this test binary re-executed as rank 0 and rank 1, Gloo over
// loopback, TCPStore rendezvous from RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT) train from
// different initial weights (rank 0's are broadcast) and end with the same weights, within 1e-5, as one
// process trained on the doubled batch; only rank 0 writes checkpoints and logs. Twice: halves with the
// same embodiments, and halves with different human/robot mixes (per-term global rescaling).
//
// Adam's epsilon is 1e-3 here rather than 1e-8. The averaged gradients agree with the one-process
// gradients to float rounding (the allreduce sums in another order; checked: no element differs by
// more than 1e-6 of its tensor's largest gradient), but Adam divides each element by its own magnitude,
// so an element whose exact gradient is ~1e-7 (cancellation, e.g. in the zero-initialised output
// layer) and whose rounding differs between the runs moves by a different fraction of lr. Measured
// after 5 steps at lr 1e-3: max |dw| 9e-4 with eps 1e-8, 4e-6 with 1e-6, 1.2e-7 with 1e-3. A missing
// allreduce or broadcast still shows (the halves' gradients differ for real).

#include "trainer/train/distributed.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/checkpoint/model_checkpoint.h"
#include "core/util/log.h"
#include "gtest/gtest.h"
#include "trainer/train/test_batches.h"
#include "trainer/train/train_state.h"
#include "trainer/train/trainer.h"

namespace mivla::trainer {
namespace {
namespace fs = std::filesystem;
using action::Embodiment;

constexpr int kSteps = 5;

// "same": both halves hold the same embodiments. "mixed": rank 0 draws 3 human + 1 robot sample and
// rank 1 1 human + 3 robot samples, so each rank's per-term means cover different sample counts (the
// normal case with the real data loader); only the global per-term rescaling makes them agree.
TrainBatch GlobalBatch(const std::string& mix) {
  if (mix == "mixed") {
    const std::vector<Embodiment> es = {Embodiment::kHuman, Embodiment::kHuman, Embodiment::kPiper,
                                        Embodiment::kHuman, Embodiment::kAlohaAgilex, Embodiment::kArx5,
                                        Embodiment::kHuman, Embodiment::kPiper};
    return testing::SyntheticBatch(model::TinyConfig(), es, 13);
  }
  const std::vector<Embodiment> es = {Embodiment::kPiper, Embodiment::kAlohaAgilex, Embodiment::kHuman,
                                      Embodiment::kArx5, Embodiment::kPiper, Embodiment::kAlohaAgilex,
                                      Embodiment::kHuman, Embodiment::kArx5};
  return testing::SyntheticBatch(model::TinyConfig(), es, 11);
}

TrainConfig Config(const std::string& dir) {
  TrainConfig c;
  c.name = "ddp";
  c.output_dir = dir;
  c.device = "cpu";
  c.steps = kSteps;
  c.lr = 1e-3;
  c.warmup_steps = 2;
  c.checkpoint_every = kSteps;
  c.log_every = 1;
  c.seed = 5;
  c.eps = 1e-3;
  return c;
}

// A trainer of a fresh tiny model (the current torch seed) on `source`, as a rank of `dist`, writing
// to `dir`, training until `steps`.
absl::StatusOr<std::unique_ptr<Trainer>> MakeTrainer(const std::string& dir, Distributed* dist, BatchSource* source,
                                                     int64_t steps = kSteps) {
  TrainerOptions o;
  o.config = Config(dir);
  o.config.steps = steps;
  o.model = model::MivlaModel(model::TinyConfig());
  o.data = source;
  o.dist = dist;
  o.progress = false;
  return Trainer::Create(std::move(o));
}

// Trains until `steps` on rank `dist`'s share of the global batch (after resuming from the model
// directory when `resume`); returns the trainer.
std::unique_ptr<Trainer> Train(const std::string& dir, Distributed* dist, uint64_t init_seed,
                               testing::FixedBatchSource* source, int64_t steps = kSteps, bool resume = false) {
  torch::manual_seed(init_seed);
  auto t = MakeTrainer(dir, dist, source, steps);
  EXPECT_TRUE(t.ok()) << t.status();
  if (!t.ok()) return nullptr;
  if (resume) {
    absl::Status r = (*t)->Resume();
    EXPECT_TRUE(r.ok()) << r;
    if (!r.ok()) return nullptr;
  }
  auto s = (*t)->Run();
  EXPECT_TRUE(s.ok()) << s.status();
  return std::move(*t);
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Rank share of fixed batches that asks `trainer` to stop when it hands out batch `at` (a SIGTERM that
// reached this rank only).
class StopRequestingSource : public testing::FixedBatchSource {
 public:
  using FixedBatchSource::FixedBatchSource;
  void Arm(Trainer* trainer, uint64_t at) {
    trainer_ = trainer;
    at_ = at;
  }
  absl::StatusOr<TrainBatch> Next() override {
    if (trainer_ != nullptr && next_index() == at_) trainer_->RequestStop();
    return FixedBatchSource::Next();
  }

 private:
  Trainer* trainer_ = nullptr;
  uint64_t at_ = 0;
};

// The worker: runs only when re-executed by the tests below.
TEST(DistributedWorker, Train) {
  const char* out = std::getenv("MIVLA_DDP_TEST_OUT");
  if (out == nullptr) GTEST_SKIP() << "runs only as a child of the DistributedTest cases";
  SetLogQuiet(true);
  auto options = DistributedOptionsFromEnv();
  ASSERT_TRUE(options.ok()) << options.status();
  auto dist = Distributed::Create(*options, torch::kCPU);
  ASSERT_TRUE(dist.ok()) << dist.status();
  EXPECT_EQ((*dist)->backend(), "gloo");
  const int rank = (*dist)->rank();
  const std::string mix = std::getenv("MIVLA_DDP_TEST_MIX");
  const std::string dir = (fs::path(out) / ("rank" + std::to_string(rank))).string();
  if (mix == "stop") {  // rank 1 alone is asked to stop while step 3 runs; both stop after step 3
    StopRequestingSource source({GlobalBatch("mixed")}, rank, (*dist)->world_size());
    auto t = MakeTrainer(dir, dist->get(), &source);
    ASSERT_TRUE(t.ok()) << t.status();
    if (rank == 1) source.Arm(t->get(), 2);
    auto summary = (*t)->Run();
    ASSERT_TRUE(summary.ok()) << summary.status();
    EXPECT_TRUE(summary->stopped);
    EXPECT_EQ((*t)->step(), 3);
    const std::vector<int64_t> written = ListCheckpointSteps(dir, "ddp");  // only rank 0 writes
    EXPECT_EQ(written, rank == 0 ? std::vector<int64_t>{3} : std::vector<int64_t>{});
    return;
  }
  if (mix == "resume_shared" || mix == "resume_private") {
    // Three steps, then a new process state (other initial weights) resumes and trains to kSteps.
    const std::string model_dir = mix == "resume_shared" ? (fs::path(out) / "shared").string() : dir;
    testing::FixedBatchSource first_source({GlobalBatch("mixed")}, rank, (*dist)->world_size());
    ASSERT_NE(Train(model_dir, dist->get(), 100 + rank, &first_source, 3), nullptr);
    testing::FixedBatchSource source({GlobalBatch("mixed")}, rank, (*dist)->world_size());
    if (mix == "resume_private") {  // rank 1 has no state: every rank fails, none hangs or restarts
      torch::manual_seed(200 + rank);
      auto t = MakeTrainer(model_dir, dist->get(), &source);
      ASSERT_TRUE(t.ok()) << t.status();
      absl::Status r = (*t)->Resume();
      EXPECT_FALSE(r.ok());
      std::FILE* f = std::fopen((dir + ".err").c_str(), "w");
      ASSERT_NE(f, nullptr);
      std::fprintf(f, "%s", r.ToString().c_str());
      std::fclose(f);
      return;
    }
    auto trainer = Train(model_dir, dist->get(), 200 + rank, &source, kSteps, /*resume=*/true);
    ASSERT_NE(trainer, nullptr);
    torch::save(trainer->model(), dir + ".pt");
    return;
  }
  testing::FixedBatchSource source({GlobalBatch(mix)}, rank, (*dist)->world_size());
  auto trainer = Train(dir, dist->get(), 100 + rank, &source);  // other initial weights per rank
  ASSERT_NE(trainer, nullptr);
  torch::save(trainer->model(), dir + ".pt");
}

// Starts this binary twice as the ranks of a Gloo group running DistributedWorker.Train with `mix`;
// returns their pids.
std::vector<pid_t> StartRanks(const fs::path& out, const std::string& mix) {
  const int port = FreePort();
  std::vector<pid_t> children;
  for (int rank = 0; rank < 2; ++rank) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("MIVLA_DDP_TEST_OUT", out.c_str(), 1);
      ::setenv("MIVLA_DDP_TEST_MIX", mix.c_str(), 1);
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", "2", 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::execl("/proc/self/exe", "distributed_worker", "--gtest_filter=DistributedWorker.Train", nullptr);
      ::_exit(127);
    }
    children.push_back(pid);
  }
  return children;
}

void ExpectRanksSucceeded(const std::vector<pid_t>& children) {
  for (pid_t pid : children) {
    ASSERT_GT(pid, 0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "worker exit status " << status;
  }
}

// Two Gloo ranks on halves of GlobalBatch(mix) against one process on the whole batch.
void ExpectTwoRanksMatchOneProcess(const std::string& mix) {
  SetLogQuiet(true);
  const fs::path out = fs::path(::testing::TempDir()) / ("distributed_test_" + mix);
  fs::remove_all(out);
  fs::create_directories(out);
  const std::vector<pid_t> children = StartRanks(out, mix);
  // Meanwhile: one process, the doubled (global) batch, rank 0's initial weights.
  testing::FixedBatchSource source({GlobalBatch(mix == "resume_shared" ? "mixed" : mix)});
  auto single = Train((out / "single").string(), nullptr, 100, &source);
  ASSERT_NE(single, nullptr);
  ExpectRanksSucceeded(children);
  if (mix == "resume_shared") {  // the resumed ranks end where an uninterrupted one-process run ends
    for (int rank = 0; rank < 2; ++rank) {
      model::MivlaModel m(model::TinyConfig());
      torch::load(m, (out / ("rank" + std::to_string(rank) + ".pt")).string());
      EXPECT_LE(testing::MaxAbsDifference(*m, *single->model()), 1e-5) << "rank " << rank;
    }
    EXPECT_EQ(ListCheckpointSteps((out / "shared").string(), "ddp"), (std::vector<int64_t>{3, kSteps}));
    return;
  }
  for (int rank = 0; rank < 2; ++rank) {
    model::MivlaModel m(model::TinyConfig());
    torch::load(m, (out / ("rank" + std::to_string(rank) + ".pt")).string());
    const double diff = testing::MaxAbsDifference(*m, *single->model());
    if (std::getenv("MIVLA_TEST_VERBOSE")) {
      auto pb = single->model()->named_parameters();
      for (const auto& it : m->named_parameters()) {
        const double d = (it.value() - pb[it.key()]).abs().max().item<double>();
        if (d > 1e-5) std::printf("  %s: %.3g (|w| %.3g)\n", it.key().c_str(), d, it.value().abs().max().item<double>());
      }
    }
    std::printf("%s halves, rank %d vs one process with the doubled batch: max |dw| = %.3g\n", mix.c_str(), rank,
                diff);
    EXPECT_LE(diff, 1e-5) << "rank " << rank;
  }
  // Only rank 0 wrote checkpoints and logs.
  EXPECT_EQ(ListCheckpointSteps((out / "rank0").string(), "ddp"), std::vector<int64_t>{kSteps});
  EXPECT_TRUE(fs::exists(out / "rank0" / "train_log.csv"));
  EXPECT_FALSE(fs::exists(out / "rank1") && !fs::is_empty(out / "rank1"));
}

TEST(DistributedTest, TwoGlooProcessesMatchOneProcessWithTheDoubledBatch) { ExpectTwoRanksMatchOneProcess("same"); }

TEST(DistributedTest, RanksWithDifferentEmbodimentMixesMatchOneProcess) { ExpectTwoRanksMatchOneProcess("mixed"); }

TEST(DistributedTest, ResumedRanksLoadRankZerosStateAndMatchAnUninterruptedRun) {
  ExpectTwoRanksMatchOneProcess("resume_shared");
}

TEST(DistributedTest, ResumeWithoutASharedModelDirectoryFailsOnEveryRank) {
  SetLogQuiet(true);
  const fs::path out = fs::path(::testing::TempDir()) / "distributed_test_resume_private";
  fs::remove_all(out);
  fs::create_directories(out);
  ExpectRanksSucceeded(StartRanks(out, "resume_private"));
  for (int rank = 0; rank < 2; ++rank) {
    std::ifstream in(out / ("rank" + std::to_string(rank) + ".err"));
    const std::string error((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::printf("rank %d: %s\n", rank, error.c_str());
    EXPECT_NE(error.find(rank == 1 ? "must be shared by every rank" : "failed on 1 other rank"), std::string::npos)
        << error;
  }
}

TEST(DistributedTest, AStopRequestOnOneRankStopsEveryRankAtTheSameStep) {
  SetLogQuiet(true);
  const fs::path out = fs::path(::testing::TempDir()) / "distributed_test_stop";
  fs::remove_all(out);
  fs::create_directories(out);
  ExpectRanksSucceeded(StartRanks(out, "stop"));  // without the agreement rank 0 would wait in an allreduce
}

TEST(DistributedTest, EnvironmentErrorsNameTheVariable) {
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "2", 1);
  auto o = DistributedOptionsFromEnv();
  EXPECT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("RANK=2"), std::string::npos) << o.status();
  ::setenv("RANK", "x", 1);
  EXPECT_NE(DistributedOptionsFromEnv().status().message().find("RANK"), std::string::npos);
  ::unsetenv("RANK");
  o = DistributedOptionsFromEnv();  // WORLD_SIZE 2 with no rank at all
  EXPECT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("JOB_COMPLETION_INDEX"), std::string::npos) << o.status();
  ::unsetenv("WORLD_SIZE");
  ::setenv("JOB_COMPLETION_INDEX", "0", 1);
  o = DistributedOptionsFromEnv();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->world_size, 1);
  ::unsetenv("JOB_COMPLETION_INDEX");
}

}  // namespace
}  // namespace mivla::trainer
