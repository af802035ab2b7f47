// File: ablation_cli_test.cc
// `mivla-train ablation` end to end on trainer/configs/ablation_micro.json (one episode per data set,
// a few steps, one task, one seed, easy mode; all four variants): the data stages alone (--only),
// stopped by SIGTERM during a
// pre-training (exit 3, the stage partial), killed by SIGKILL during another (no child survives),
// then run to the end: finished stages are skipped, both trainings resumed from their own state, the
// report has every variant; a failing child names the stage, command and log, and finished stages
// stay. Then `mivla-train export` writes an F16 copy of a fine-tuned checkpoint (about half the size)
// that mivla-server loads and serves to one mivla-eval episode.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "trainer/ablation/child_process.h"

namespace mivla::trainer::ablation {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using json = nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json ReadJson(const std::string& path) { return json::parse(ReadAll(path), nullptr, false); }

class AblationCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    char tmpl[] = "/tmp/ablation_cli_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    out_ = dir_ + "/out";
    config_ = ReadJson(std::string(MIVLA_SOURCE_DIR) + "/trainer/configs/ablation_micro.json");
    ASSERT_FALSE(config_.is_discarded());
    config_["output_dir"] = out_;
    config_["pretrain"]["base"]["optim"]["steps"] = 8;  // a window to stop it in
    WriteConfig();
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  void WriteConfig() { std::ofstream(dir_ + "/abl.json") << config_.dump(2); }

  std::unique_ptr<ChildProcess> Start(const std::string& log, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {MIVLA_TRAIN_BIN, "ablation", "--config", dir_ + "/abl.json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto c = ChildProcess::Start({argv, dir_ + "/" + log});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }
  /// Waits for `path` to exist while `child` runs.
  bool WaitFor(ChildProcess& child, const std::string& path, double timeout_s = 240) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < end && !child.Poll()) {
      if (fs::exists(path)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return fs::exists(path);
  }
  static int ExitCode(const ChildProcess& c) {
    const int st = *c.exit_status();
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  /// Processes (other than this test) whose command line mentions the test folder.
  std::vector<std::string> Survivors() const {
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator("/proc")) {
      const std::string pid = e.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(getpid())) continue;
      std::string cmd = ReadAll(e.path().string() + "/cmdline");
      for (char& ch : cmd) ch = ch == '\0' ? ' ' : ch;
      if (cmd.find(dir_) != std::string::npos) found.push_back(pid + ": " + cmd);
    }
    return found;
  }
  std::string StageStatus(const std::string& stage) const {
    const json p = ReadJson(out_ + "/progress.json");
    for (const auto& s : p["stages"]) {
      if (s["name"] == stage) return s["status"].get<std::string>();
    }
    return "?";
  }

  std::string dir_, out_;
  json config_;
};

TEST_F(AblationCliTest, StopKillResumeReportAndExport) {
  // 0. --only 'data/*': the data stages alone; the others are outside the selection.
  auto run0 = Start("run0.log", {"--only", "data/*"});
  run0->Wait();
  ASSERT_EQ(ExitCode(*run0), 0) << ReadAll(dir_ + "/run0.log");
  EXPECT_EQ(StageStatus("data/piper_ft"), "done");
  EXPECT_EQ(StageStatus("pretrain/b"), "excluded");

  // 1. SIGTERM while pre-training b: a clean stop, exit 3, the stage partial, data kept.
  auto run1 = Start("run1.log");
  ASSERT_TRUE(WaitFor(*run1, out_ + "/pretrain/b/pretrain-b-00000002.mivla")) << ReadAll(dir_ + "/run1.log");
  run1->Signal(SIGTERM);
  run1->Wait();
  ASSERT_EQ(ExitCode(*run1), 3) << ReadAll(dir_ + "/run1.log");
  EXPECT_THAT(ReadAll(dir_ + "/run1.log"), HasSubstr("pretrain/b: stopped after"));
  EXPECT_EQ(StageStatus("pretrain/b"), "partial");
  EXPECT_EQ(StageStatus("data/human"), "done");
  EXPECT_EQ(ReadJson(out_ + "/progress.json")["status"], "stopped");
  const std::string data_marker = ReadAll(out_ + "/stages/data/human.done.json");
  ASSERT_FALSE(data_marker.empty());

  // 2. SIGKILL while pre-training d: nothing the pipeline started survives it.
  auto run2 = Start("run2.log");
  ASSERT_TRUE(WaitFor(*run2, out_ + "/pretrain/d/pretrain-d-00000002.mivla")) << ReadAll(dir_ + "/run2.log");
  kill(run2->pid(), SIGKILL);
  run2->Wait();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(Survivors().empty()) << ::testing::PrintToString(Survivors());
  EXPECT_THAT(ReadAll(dir_ + "/run2.log"), HasSubstr("pretrain/b: continuing"));  // data stages skipped
  EXPECT_THAT(ReadAll(dir_ + "/run2.log"), ::testing::Not(HasSubstr("data/human")));
  EXPECT_THAT(ReadAll(out_ + "/logs/pretrain_b.log"), HasSubstr("resumed from"));

  // 3. To the end: skips finished stages, resumes d, writes the report.
  auto run3 = Start("run3.log");
  run3->Wait();
  const std::string log3 = ReadAll(dir_ + "/run3.log");
  ASSERT_EQ(ExitCode(*run3), 0) << log3;
  EXPECT_THAT(log3, HasSubstr("stages were done before"));
  EXPECT_THAT(log3, ::testing::Not(HasSubstr("data/human: starting")));
  EXPECT_THAT(ReadAll(out_ + "/logs/pretrain_d.log"), HasSubstr("resumed from"));
  EXPECT_EQ(ReadAll(out_ + "/stages/data/human.done.json"), data_marker);
  EXPECT_EQ(ReadJson(out_ + "/progress.json")["status"], "done");
  const std::string md = ReadAll(out_ + "/results.md");
  for (const char* row : {"| (a) no pre-training |", "| (b) human only |", "| (c) human + human->robot |",
                          "| (d) human + sim robot, all terms |"}) {
    EXPECT_THAT(md, HasSubstr(row));
  }
  EXPECT_THAT(md, HasSubstr("## Success rate (%), easy mode"));
  const json results = ReadJson(out_ + "/results.json");
  ASSERT_FALSE(results.is_discarded());
  EXPECT_EQ(results["cells"].size(), 4u);
  EXPECT_EQ(results["training"].size(), 7u);
  EXPECT_EQ(results["training"][1]["steps"], 8);
  EXPECT_GT(fs::file_size(out_ + "/ablation.png"), 10000u);

  auto dry = Start("dry.log", {"--dry-run"});
  dry->Wait();
  EXPECT_EQ(ExitCode(*dry), 0);
  EXPECT_THAT(ReadAll(dir_ + "/dry.log"), ::testing::ContainsRegex("report +done"));
  EXPECT_THAT(ReadAll(dir_ + "/dry.log"), HasSubstr("0 stages left"));

  // 4. A failing child: the stage, the command and its log are named; finished stages stay.
  config_["eval"]["eval_flags"] = {"--no-such-flag"};
  WriteConfig();
  auto run4 = Start("run4.log");
  run4->Wait();
  const std::string log4 = ReadAll(dir_ + "/run4.log");
  EXPECT_EQ(ExitCode(*run4), 1) << log4;
  EXPECT_THAT(log4, HasSubstr("stage eval/a/press_bell/easy failed: exit 2"));
  EXPECT_THAT(log4, HasSubstr("command: "));
  EXPECT_THAT(log4, HasSubstr("--no-such-flag"));
  EXPECT_THAT(log4, HasSubstr("log: " + out_ + "/logs/eval_a_press_bell_easy.log"));
  EXPECT_EQ(StageStatus("eval/a/press_bell/easy"), "failed");
  EXPECT_EQ(StageStatus("finetune/d"), "done");

  // 5. Bad configuration: exit 2 naming the file and the field.
  config_["datagen"][0]["task"] = "juggle";
  WriteConfig();
  auto run5 = Start("run5.log");
  run5->Wait();
  EXPECT_EQ(ExitCode(*run5), 2);
  EXPECT_THAT(ReadAll(dir_ + "/run5.log"), HasSubstr(dir_ + "/abl.json: datagen[0].task: no task 'juggle'"));

  // 6. Export the fine-tuned d to F16; the server loads it and serves an episode.
  const std::string f32 = out_ + "/finetune/d/finetune-d-00000004.mivla";
  fs::create_directories(dir_ + "/f16");
  const std::string f16 = dir_ + "/f16/finetune-d-f16.mivla";
  auto exp = ChildProcess::Start({{MIVLA_TRAIN_BIN, "export", "--checkpoint", f32, "--out", f16,
                                   "--weights-dtype", "f16"}, dir_ + "/export.log"});
  ASSERT_TRUE(exp.ok()) << exp.status();
  (*exp)->Wait();
  ASSERT_EQ(ExitCode(**exp), 0) << ReadAll(dir_ + "/export.log");
  const double ratio = static_cast<double>(fs::file_size(f16)) / static_cast<double>(fs::file_size(f32));
  EXPECT_GT(ratio, 0.45);
  EXPECT_LT(ratio, 0.55);
  EXPECT_THAT(ReadAll(dir_ + "/export.log"), HasSubstr("\"weights_dtype\":\"F16\""));
  auto server = ChildProcess::Start({{MIVLA_SERVER_BIN, "--model-dir", dir_ + "/f16", "--host", "127.0.0.1",
                                      "--port", "0", "--metrics-port", "-1", "--device", "cpu"},
                                     dir_ + "/server.log"});
  ASSERT_TRUE(server.ok()) << server.status();
  int port = 0;
  for (int i = 0; i < 600 && port == 0 && !(*server)->Poll(); ++i) {
    std::istringstream in(ReadAll(dir_ + "/server.log"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("{\"event\":\"listening\"", 0) == 0) port = json::parse(line)["port"].get<int>();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(port, 0) << ReadAll(dir_ + "/server.log");
  EXPECT_THAT(ReadAll(dir_ + "/server.log"), HasSubstr("finetune-d-00000004"));  // the version it serves
  auto eval = ChildProcess::Start({{MIVLA_EVAL_BIN, "--server", "127.0.0.1:" + std::to_string(port), "--embodiment",
                                    "piper", "--task", "press_bell", "--episodes", "1", "--max-steps", "16", "--quiet",
                                    "--out", dir_ + "/eval_f16"}, dir_ + "/eval.log"});
  ASSERT_TRUE(eval.ok()) << eval.status();
  (*eval)->Wait();
  (*server)->Terminate(10);
  ASSERT_EQ(ExitCode(**eval), 0) << ReadAll(dir_ + "/eval.log");
  EXPECT_EQ(ReadJson(dir_ + "/eval_f16/eval.json")["tasks"][0]["episodes"], 1);
}

}  // namespace
}  // namespace mivla::trainer::ablation
