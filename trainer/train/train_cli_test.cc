// mivla-train as a program, on datasets made by mivla-datagen: a corrupt episode is skipped and reported
// (log and summary.json); a run killed (SIGKILL) after a checkpoint and resumed with --resume ends with
// exactly the weights of an uninterrupted run; a running mivla-server picks up the checkpoints the
// trainer writes into its --model-dir (its /metrics model version follows the trainer's steps);
// `mivla-train average` writes the mean of two of a run's checkpoints and names a missing input.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/checkpoint/model_checkpoint.h"
#include "gtest/gtest.h"
#include "trainer/train/test_batches.h"

namespace mivla::trainer {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Starts argv with stdout and stderr to files; returns the pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int RunTo(const std::vector<std::string>& argv, const std::string& log) { return Wait(Spawn(argv, log + ".out", log)); }

class TrainCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Per process: CTest runs each case as its own process, possibly two at once.
    root_ = new std::string((fs::path(::testing::TempDir()) / ("train_cli_test_" + std::to_string(::getpid()))).string());
    fs::remove_all(*root_);
    for (const char* e : {"piper", "human"}) {
      ASSERT_EQ(RunTo({MIVLA_DATAGEN_BIN, "--task", "press_bell", "--embodiment", e, "--episodes", "3", "--workers", "1",
                     "--no-progress", "--out", *root_ + "/" + e},
                    *root_ + "/datagen_" + e + ".log"),
                0);
    }
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*root_, ec);
    delete root_;
  }

  // A config for `dir` training `steps` steps (checkpoint every 2).
  static std::string Config(const std::string& dir, int steps, const std::string& robot_dir) {
    nlohmann::json j = {{"name", "cli"}, {"model", "tiny"}, {"output_dir", dir}, {"device", "cpu"}, {"seed", 3},
                        {"data", {{"sources", {{{"name", "robot"}, {"path", robot_dir}},
                                               {{"name", "human"}, {"path", *root_ + "/human"}}}},
                                  {"batch_size", 4}, {"workers", 1}, {"tokenizer", MIVLA_TOKENIZER},
                                  {"cache_dir", *root_ + "/complement_cache"}}},
                        {"optim", {{"steps", steps}, {"warmup_steps", 2}, {"lr", 1e-3}}},
                        {"encoders", {{"freeze_vision", true}, {"freeze_text", true}}},
                        {"checkpoint_every", 2}, {"keep_last", 10}, {"log_every", 1}};
    fs::create_directories(dir);
    const std::string path = dir + ".json";
    std::ofstream(path) << j.dump(2);
    return path;
  }

  static std::string* root_;
};
std::string* TrainCliTest::root_ = nullptr;

TEST_F(TrainCliTest, CorruptEpisodeIsSkippedAndReported) {
  // A copy of the robot data with one episode's HDF5 file truncated.
  const std::string data = *root_ + "/corrupt_data";
  fs::copy(*root_ + "/piper", data, fs::copy_options::recursive);
  std::string bad;
  for (const auto& e : fs::recursive_directory_iterator(data)) {
    if (e.path().filename() == "episode1.hdf5") bad = e.path().string();
  }
  ASSERT_FALSE(bad.empty());
  fs::resize_file(bad, fs::file_size(bad) / 3);
  const std::string dir = *root_ + "/corrupt_run";
  const std::string log = dir + ".log";
  ASSERT_EQ(RunTo({MIVLA_TRAIN_BIN, "pretrain", "--config", Config(dir, 2, data), "--no-progress"}, log), 0) << Slurp(log);
  const std::string err = Slurp(log);
  EXPECT_NE(err.find("skipped episode " + bad), std::string::npos) << err;
  nlohmann::json summary = nlohmann::json::parse(Slurp(dir + "/summary.json"));
  ASSERT_EQ(summary["data"]["skipped"].size(), 1u) << summary["data"].dump();
  EXPECT_EQ(summary["data"]["skipped"][0]["path"], bad);
  EXPECT_FALSE(summary["data"]["skipped"][0]["reason"].get<std::string>().empty());
  EXPECT_EQ(summary["last_step"], 2);
}

TEST_F(TrainCliTest, KilledRunResumesToTheSameWeights) {
  const std::string a = *root_ + "/uninterrupted", b = *root_ + "/killed";
  ASSERT_EQ(RunTo({MIVLA_TRAIN_BIN, "pretrain", "--config", Config(a, 8, *root_ + "/piper"), "--no-progress"}, a + ".log"), 0)
      << Slurp(a + ".log");
  // Killed (SIGKILL: no chance to save) as soon as the step-4 checkpoint is visible.
  const std::string config_b = Config(b, 8, *root_ + "/piper");
  pid_t pid = Spawn({MIVLA_TRAIN_BIN, "pretrain", "--config", config_b, "--no-progress"}, b + ".out", b + ".log");
  const std::string ckpt4 = b + "/cli-00000004.mivla";
  const auto deadline = Clock::now() + std::chrono::seconds(240);
  while (!fs::exists(ckpt4) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(Wait(pid), 128 + SIGKILL);
  ASSERT_TRUE(fs::exists(ckpt4));
  ASSERT_FALSE(fs::exists(b + "/cli-00000008.mivla")) << "the run finished before it was killed";
  ASSERT_EQ(RunTo({MIVLA_TRAIN_BIN, "pretrain", "--config", config_b, "--resume", "--no-progress"}, b + ".resume.log"), 0)
      << Slurp(b + ".resume.log");
  EXPECT_NE(Slurp(b + ".resume.log").find("resumed from"), std::string::npos);
  auto wa = checkpoint::LoadModelCheckpoint(a + "/cli-00000008.mivla");
  auto wb = checkpoint::LoadModelCheckpoint(b + "/cli-00000008.mivla");
  ASSERT_TRUE(wa.ok()) << wa.status();
  ASSERT_TRUE(wb.ok()) << wb.status();
  const double diff = testing::MaxAbsDifference(*wa->model, *wb->model);
  std::printf("killed + resumed vs uninterrupted (8 steps): max |dw| = %.3g\n", diff);
  EXPECT_LE(diff, 1e-6);
  EXPECT_TRUE(wa->normalization == wb->normalization);
}

TEST_F(TrainCliTest, AverageWritesTheMeanOfARunsCheckpoints) {
  const std::string dir = *root_ + "/to_average";
  ASSERT_EQ(RunTo({MIVLA_TRAIN_BIN, "pretrain", "--config", Config(dir, 4, *root_ + "/piper"), "--no-progress"},
                  dir + ".log"),
            0)
      << Slurp(dir + ".log");
  const std::string c2 = dir + "/cli-00000002.mivla", c4 = dir + "/cli-00000004.mivla", out = dir + "/avg.mivla";
  const std::string log = dir + ".average.log";
  ASSERT_EQ(RunTo({MIVLA_TRAIN_BIN, "average", "--out", out, "--version", "cli-avg", c2, c4}, log), 0) << Slurp(log);
  const nlohmann::json report = nlohmann::json::parse(Slurp(log + ".out"));
  EXPECT_EQ(report["model_version"], "cli-avg");
  EXPECT_EQ(report["checkpoints"].size(), 2u);
  auto avg = checkpoint::LoadModelCheckpoint(out);
  auto a = checkpoint::LoadModelCheckpoint(c2);
  auto b = checkpoint::LoadModelCheckpoint(c4);
  ASSERT_TRUE(avg.ok() && a.ok() && b.ok()) << avg.status();
  EXPECT_EQ(avg->metadata["averaged_from"], "cli-00000002,cli-00000004");
  // Halfway between the two: as far from each as they are apart, halved.
  const double apart = testing::MaxAbsDifference(*a->model, *b->model);
  EXPECT_GT(apart, 0.0);
  EXPECT_NEAR(testing::MaxAbsDifference(*avg->model, *a->model), apart / 2, 1e-6);
  EXPECT_NEAR(testing::MaxAbsDifference(*avg->model, *b->model), apart / 2, 1e-6);

  // A missing input exits 2 naming it; one input is a usage error.
  EXPECT_EQ(RunTo({MIVLA_TRAIN_BIN, "average", "--out", out, "--version", "v", c2, dir + "/absent.mivla"}, log), 2);
  EXPECT_NE(Slurp(log).find("absent.mivla"), std::string::npos) << Slurp(log);
  EXPECT_EQ(RunTo({MIVLA_TRAIN_BIN, "average", "--out", out, "--version", "v", c2}, log), 2);
  EXPECT_NE(Slurp(log).find("at least two"), std::string::npos) << Slurp(log);
}

std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string body;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof(buf))) > 0) body.append(buf, n);
    }
  }
  ::close(fd);
  return body;
}

TEST_F(TrainCliTest, RunningServerPicksUpTheTrainersCheckpoints) {
  const std::string dir = *root_ + "/served";
  const std::string config = Config(dir, 2, *root_ + "/piper");
  ASSERT_EQ(RunTo({MIVLA_TRAIN_BIN, "pretrain", "--config", config, "--no-progress"}, dir + ".log"), 0) << Slurp(dir + ".log");
  const std::string out = dir + ".server.out";
  pid_t server = Spawn({MIVLA_SERVER_BIN, "--model-dir", dir, "--port", "0", "--metrics-port", "0", "--host",
                        "127.0.0.1", "--metrics-host", "127.0.0.1", "--poll-interval-ms", "200", "--settle-ms", "0"},
                       out, dir + ".server.log");
  int metrics_port = 0;
  auto deadline = Clock::now() + std::chrono::seconds(120);
  std::smatch m;
  const std::regex listening(R"("metrics_port":(\d+))");
  while (metrics_port == 0 && Clock::now() < deadline) {
    const std::string s = Slurp(out);
    if (std::regex_search(s, m, listening)) metrics_port = std::stoi(m[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(metrics_port, 0) << Slurp(dir + ".server.log");
  auto serves = [&](const std::string& version) {
    const auto until = Clock::now() + std::chrono::seconds(120);
    while (Clock::now() < until) {
      if (HttpGet(metrics_port, "/metrics").find("mivla_model_info{version=\"" + version + "\"}") != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  EXPECT_TRUE(serves("cli-00000002")) << HttpGet(metrics_port, "/metrics");
  // The trainer continues while the server runs; the server hot-reloads the new checkpoint.
  ASSERT_EQ(RunTo({MIVLA_TRAIN_BIN, "pretrain", "--config", config, "--resume", "--steps", "4", "--no-progress"},
                dir + ".resume.log"),
            0)
      << Slurp(dir + ".resume.log");
  EXPECT_TRUE(serves("cli-00000004")) << HttpGet(metrics_port, "/metrics") << Slurp(dir + ".server.log");
  ::kill(server, SIGTERM);
  EXPECT_EQ(Wait(server), 0);
}

}  // namespace
}  // namespace mivla::trainer
