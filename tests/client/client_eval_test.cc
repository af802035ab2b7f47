// File: client_eval_test.cc
// mivla-eval as a user runs it, against a mivla-server child: two tasks, two episodes each, two robots in
// parallel; the JSON on standard output has per-task metrics and per-episode seeds S + i, eval.json and
// eval.png are written, every episode reached the server (ReportEpisode), and bad flags are refused;
// the bundled checkpoint, served by default, drives one PiPER episode.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>

#include "client/tools/server_child.h"
#include "core/metrics/text_format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace mivla::client {
namespace {

struct Result {
  int code = -1;
  std::string out;
};

Result RunCommand(const std::string& cmd) {
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// One run of mivla-eval with --json --quiet (standard error dropped): its exit status, standard output and
// that output parsed (discarded when it is not JSON).
struct EvalRun {
  Result result;
  nlohmann::json json;
};

EvalRun RunEval(const std::string& args) {
  EvalRun run;
  run.result = RunCommand(std::string(MIVLA_EVAL_BIN) + " " + args + " --json --quiet 2>/dev/null");
  run.json = nlohmann::json::parse(run.result.out, nullptr, false);
  return run;
}

// The shape every report has: the run exited with `code` and printed a JSON report of `tasks` tasks.
// Call it inside ASSERT_NO_FATAL_FAILURE.
void AssertReport(const EvalRun& run, int code, size_t tasks) {
  ASSERT_EQ(run.result.code, code) << run.result.out;
  ASSERT_FALSE(run.json.is_discarded()) << run.result.out;
  ASSERT_EQ(run.json["tasks"].size(), tasks) << run.result.out;
}

TEST(ClientEvalTest, EvaluatesTasksInParallelAndReportsEveryEpisode) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(MIVLA_SERVER_BIN, 0, ::testing::TempDir() + "/eval_server.log");
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string out = ::testing::TempDir() + "/mivla_eval_out";
  std::filesystem::remove_all(out);
  const EvalRun run = RunEval("--server " + (*server)->target() +
                              " --embodiment piper --task press_bell,stack_blocks --episodes 2 --parallel 2"
                              " --seed 100 --mode hard --max-steps 40 --out " + out);
  ASSERT_NO_FATAL_FAILURE(AssertReport(run, 0, 2));
  const nlohmann::json& j = run.json;
  EXPECT_EQ(j["embodiment"], "PIPER");
  EXPECT_EQ(j["mode"], "hard");
  for (const nlohmann::json& t : j["tasks"]) {
    EXPECT_EQ(t["episodes"], 2);
    EXPECT_GE(t["success_rate"].get<double>(), 0.0);
    EXPECT_LE(t["success_rate"].get<double>(), 1.0);
    EXPECT_GE(t["completeness"].get<double>(), 0.0);
    std::set<int> seeds;
    for (const nlohmann::json& e : t["results"]) {
      seeds.insert(e["seed"].get<int>());
      EXPECT_EQ(e["steps"], 40);
      EXPECT_GT(e["client"]["chunks"].get<int>(), 0);
    }
    EXPECT_EQ(seeds, (std::set<int>{100, 101}));
  }
  EXPECT_EQ(j["overall"]["episodes"], 4);
  EXPECT_TRUE(std::filesystem::exists(out + "/eval.json"));
  std::ifstream png(out + "/eval.png", std::ios::binary);
  char sig[8] = {};
  png.read(sig, 8);
  EXPECT_EQ(std::string(sig + 1, 3), "PNG");
  EXPECT_GT(std::filesystem::file_size(out + "/eval.png"), 10000u);
  const std::string scrape = (*server)->ScrapeMetrics();
  EXPECT_EQ(metrics::SampleValue(scrape, R"(mivla_episodes_total{embodiment="PIPER",task="press_bell"})"), 2) << scrape;
  EXPECT_EQ(metrics::SampleValue(scrape, R"(mivla_episodes_total{embodiment="PIPER",task="stack_blocks"})"), 2);
}

// The bundled checkpoint (models/, issue 15) as the server's default configuration serves it: the
// server starts without any model flag, loads the bundled file (named in its log), and mivla-eval
// drives one simulated PiPER episode through it to the end and reports its metrics. Success is not
// asserted.
TEST(ClientEvalTest, BundledCheckpointServesAndDrivesOnePiperEpisode) {
  unsetenv("MIVLA_MODEL_DIR");  // the repository's models/, not a folder set outside
  const std::string log = ::testing::TempDir() + "/bundled_server.log";
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::StartServing(MIVLA_SERVER_BIN, {}, 0, log);
  ASSERT_TRUE(server.ok()) << server.status();
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(std::string("from ") + MIVLA_MODELS_DIR + "/"), std::string::npos) << text;
  const std::string out = ::testing::TempDir() + "/mivla_eval_bundled";
  std::filesystem::remove_all(out);
  const EvalRun run =
      RunEval("--server " + (*server)->target() +
              " --embodiment piper --task press_bell --episodes 1 --seed 100000 --mode easy --out " + out);
  ASSERT_NO_FATAL_FAILURE(AssertReport(run, 0, 1));
  const nlohmann::json& t = run.json["tasks"][0];
  EXPECT_EQ(t["episodes"], 1);
  const double success = t["success_rate"].get<double>();
  EXPECT_TRUE(success == 0.0 || success == 1.0) << success;
  EXPECT_GE(t["completeness"].get<double>(), 0.0);
  EXPECT_LE(t["completeness"].get<double>(), 1.0);
  ASSERT_EQ(t["results"].size(), 1u);
  EXPECT_GT(t["results"][0]["steps"].get<int>(), 0);
  EXPECT_GT(t["results"][0]["client"]["chunks"].get<int>(), 0);
  EXPECT_EQ(
      metrics::SampleValue((*server)->ScrapeMetrics(), R"(mivla_episodes_total{embodiment="PIPER",task="press_bell"})"),
      1);
}

// The operator stop input of mivla-robot: SIGUSR1 while a real-time PiPER runs makes it hold (one
// operator_stop hold in its JSON summary, logged), SIGUSR2 releases it and fresh chunks drive it again.
TEST(ClientEvalTest, RobotHoldsOnOperatorStopSignal) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(MIVLA_SERVER_BIN, 0, ::testing::TempDir() + "/opstop_server.log");
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string log = ::testing::TempDir() + "/opstop_robot.log";
  // 150 ticks at 25 Hz = 6 s; the stop is engaged 2 s after the start for 1.5 s. A signal that arrives
  // before the first tick still holds from the first tick (the input is read before it).
  const Result r = RunCommand("( " + std::string(MIVLA_ROBOT_BIN) + " --embodiment piper --server " +
                              (*server)->target() + " --task press_bell --real-time --max-steps 150 2> " + log +
                              " & pid=$!; sleep 2; kill -USR1 $pid; sleep 1.5; kill -USR2 $pid; wait $pid )");
  ASSERT_EQ(r.code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  const nlohmann::json& c = j["client"];
  EXPECT_EQ(c["holds"]["operator_stop"], 1) << c.dump();
  // 1.5 s at 25 Hz is about 37 held ticks; at least 25 of them on a loaded machine.
  EXPECT_GE(c["hold_ticks"].get<int>(), 25) << c.dump();
  EXPECT_GE(c["fresh_ticks"].get<int>(), 20) << "the robot follows the policy again after SIGUSR2: " << c.dump();
  std::ifstream in(log);
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(err.find("operator stop engaged"), std::string::npos) << err;
  EXPECT_NE(err.find("operator stop released"), std::string::npos) << err;
}

// A server that comes up after the robot started (a robot booting beside a restarting server, or a server
// too busy to answer the handshake at once): start-up retries with backoff, so the episode runs and no
// episode is recorded as an error.
TEST(ClientEvalTest, AServerThatComesUpLateIsWaitedFor) {
  const int port = FreePort();
  EvalRun run;
  std::thread eval([&] {
    run = RunEval("--server 127.0.0.1:" + std::to_string(port) +
                  " --embodiment piper --task press_bell --episodes 1 --seed 3 --max-steps 10");
  });
  // The server needs a few seconds to start (model init), so the robot's first tries fail even after this
  // short head start; a long one would push a loaded machine past the 10 s start-up retry.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(MIVLA_SERVER_BIN, port, ::testing::TempDir() + "/late_server.log");
  eval.join();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_NO_FATAL_FAILURE(AssertReport(run, 0, 1));
  EXPECT_EQ(run.json["overall"]["errors"], 0) << run.result.out;
  EXPECT_EQ(run.json["overall"]["episodes"], 1) << run.result.out;
}

// No server listens: every episode errors; each is recorded with its message, the evaluation goes on
// to the next seed, and the exit status is 1 (only because every episode errored).
TEST(ClientEvalTest, ErroredEpisodesAreRecordedAndAllErroredExitsOne) {
  const EvalRun run =
      RunEval("--server 127.0.0.1:1 --embodiment piper --task press_bell --episodes 2 --parallel 2 --seed 7");
  ASSERT_NO_FATAL_FAILURE(AssertReport(run, 1, 1));
  const nlohmann::json& j = run.json;
  EXPECT_EQ(j["overall"]["episodes"], 0);
  EXPECT_EQ(j["overall"]["errors"], 2);
  const nlohmann::json& t = j["tasks"][0];
  EXPECT_EQ(t["errors"], 2);
  ASSERT_EQ(t["results"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(t["results"][i]["seed"], 7 + i);
    EXPECT_EQ(t["results"][i]["status"], "error");
    EXPECT_FALSE(t["results"][i]["error"].get<std::string>().empty());
  }
  const Result help = RunCommand(std::string(MIVLA_EVAL_BIN) + " --help");
  EXPECT_NE(help.out.find("1 when every episode"), std::string::npos) << help.out;
}

TEST(ClientEvalTest, BadFlagsAreRefusedWithAReason) {
  struct Case {
    std::string args, want;
  };
  const Case cases[] = {
      {"--embodiment piper", "--server"},
      {"--server 127.0.0.1:1 --embodiment piper --task lift_pot", "cannot do 'lift_pot'"},
      {"--server 127.0.0.1:1 --embodiment robodog", "--embodiment: unknown embodiment 'robodog'"},
      {"--server nocolon --embodiment piper", "--server 'nocolon': want HOST:PORT"},
      {"--server 127.0.0.1:1 --embodiment piper --mode medium", "--mode"},
      {"--server 127.0.0.1:1 --embodiment piper --episodes x", "--episodes"},
      {"--server 127.0.0.1:1 --embodiment piper --frobnicate", "unknown flag --frobnicate"},
  };
  for (const Case& c : cases) {
    const Result r = RunCommand(std::string(MIVLA_EVAL_BIN) + " " + c.args + " 2>&1");
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.want), std::string::npos) << c.args << "\n" << r.out;
  }
  const Result help = RunCommand(std::string(MIVLA_EVAL_BIN) + " --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--parallel"), std::string::npos);
}

TEST(ClientEvalTest, RobotBinaryRefusesBadFlags) {
  struct Case {
    std::string args, want;
  };
  const Case cases[] = {
      {"", "--embodiment is required"},
      {"--embodiment piper", "--server"},
      {"--embodiment piper --server 127.0.0.1:1", "--task is required"},
      {"--embodiment piper --server 127.0.0.1:1 --task press_bell --driver serial", "--driver 'serial'"},
      {"--embodiment human --server 127.0.0.1:1", "not a robot"},
      {"--embodiment piper --server 127.0.0.1:1 --config /nonexistent.json", "/nonexistent.json"},
      {"--embodiment foo --server 127.0.0.1:1", "--embodiment: unknown embodiment 'foo'"},
      {"--embodiment piper --server 127.0.0.1:1 --retarget bogus", "--retarget: retarget mode 'bogus'"},
      {"--embodiment piper --server 127.0.0.1:1 --session-embodiment bogus", "--session-embodiment: unknown"},
      {"--embodiment piper --server nocolon --task press_bell", "--server 'nocolon': want HOST:PORT"},
      {"--embodiment piper --server 127.0.0.1:1 --task nosuch", "--task: unknown task 'nosuch'"},
  };
  for (const Case& c : cases) {
    const Result r = RunCommand(std::string(MIVLA_ROBOT_BIN) + " " + c.args + " 2>&1");
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.want), std::string::npos) << c.args << "\n" << r.out;
  }
  const Result help = RunCommand(std::string(MIVLA_ROBOT_BIN) + " --help");
  EXPECT_EQ(help.code, 0);
  for (const char* flag : {"--embodiment", "--driver", "--server", "--task", "--config", "--metrics-port"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace mivla::client
