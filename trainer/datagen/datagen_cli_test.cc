// File: datagen_cli_test.cc
// Runs the built mivla-datagen binary (MIVLA_DATAGEN_BIN): --list, small robot and human runs whose
// files load back with core/data's readers, resuming, same seed -> same joints, flag errors, a
// renderer that cannot be created; expert takeover against a mivla-server, and a bad robot-client
// file for it.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/data/egodex_format.h"
#include "core/data/episode_loader.h"
#include "core/data/robotwin_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct Result {
  int code = -1;
  std::string out, err;
};

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string TempDir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / absl::StrCat("mivla_datagen_cli_", name, "_", getpid());
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

Result RunDatagen(const std::string& args) {
  static const std::string logs = TempDir("logs");
  const std::string out = logs + "/out", err = logs + "/err";
  const int status = std::system(absl::StrCat(MIVLA_DATAGEN_BIN, " ", args, " >", out, " 2>", err).c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

nlohmann::json Json(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j;
}

TEST(MivlaDatagenCli, ListIsJsonWithAtLeastSixTasks) {
  const Result r = RunDatagen("--list");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = Json(r.out);
  ASSERT_GE(j["tasks"].size(), 6u);
  std::set<std::string> names;
  for (const auto& t : j["tasks"]) {
    names.insert(t["name"].get<std::string>());
    EXPECT_GE(t["embodiments"].size(), 3u);
  }
  EXPECT_EQ(names.size(), j["tasks"].size());
  EXPECT_TRUE(names.count("press_bell"));
}

TEST(MivlaDatagenCli, RobotRunLoadsBackResumesAndIsReproducible) {
  const std::string dir = TempDir("robot");
  // A killed earlier run left a half-written episode in the temp area: it must not count as done.
  fs::create_directories(dir + "/.partial/press_bell/piper_demo_clean/1/data");
  std::ofstream(dir + "/.partial/press_bell/piper_demo_clean/1/data/episode1.hdf5") << "half";
  const std::string cmd = absl::StrCat("--task press_bell --embodiment piper --episodes 2 --mode easy --seed 11 --out ",
                                       dir, " --workers 2");
  Result r = RunDatagen(cmd);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("2/2 episodes 100%"));  // plain progress lines (not a terminal)
  EXPECT_THAT(r.err, HasSubstr("ETA"));
  nlohmann::json s = Json(r.out);
  EXPECT_EQ(s, Json(Slurp(dir + "/summary.json")));
  EXPECT_EQ(s["task"], "press_bell");
  EXPECT_EQ(s["embodiment"], "piper");
  EXPECT_EQ(s["mode"], "easy");
  EXPECT_EQ(s["seed"], 11);
  EXPECT_EQ(s["format"], "robotwin");
  EXPECT_EQ(s["episodes_written"], 2);
  EXPECT_EQ(s["episodes_skipped"], 0);
  EXPECT_GE(s["attempts"].get<int>(), 2);
  EXPECT_GT(s["expert_success_rate"].get<double>(), 0.0);
  EXPECT_GT(s["seconds"].get<double>(), 0.0);
  EXPECT_FALSE(fs::exists(dir + "/.partial"));

  long frames = 0;
  std::vector<mivla::data::RobotEpisode> first;
  for (int i = 0; i < 2; ++i) {
    const std::string path = absl::StrCat(dir, "/press_bell/piper_demo_clean/data/episode", i, ".hdf5");
    absl::StatusOr<mivla::data::RobotEpisode> e = mivla::data::ReadRoboTwinEpisode(path);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(e->embodiment, mivla::action::Embodiment::kPiper);
    EXPECT_EQ(e->task, "press_bell");
    ASSERT_TRUE(e->arms[1].present);
    EXPECT_EQ(e->arms[1].joints[0].size(), 6u);
    ASSERT_EQ(e->cameras.size(), 2u);
    EXPECT_EQ(e->cameras[0].name, "head_camera");
    EXPECT_EQ(e->cameras[0].frames.size(), static_cast<size_t>(e->num_frames()));
    EXPECT_EQ(e->cameras[0].width, 320);
    EXPECT_FALSE(e->Instruction().empty());
    frames += e->num_frames();
    first.push_back(std::move(*e));
    EXPECT_TRUE(mivla::data::LoadUnifiedEpisode(path, mivla::data::LoadOptions{}).ok());
  }
  EXPECT_EQ(s["frames"].get<long>(), frames);
  EXPECT_NE(first[0].arms[1].joints, first[1].arms[1].joints);  // different seeds, different episodes

  // Re-running the same command skips both.
  r = RunDatagen(cmd);
  ASSERT_EQ(r.code, 0) << r.err;
  s = Json(r.out);
  EXPECT_EQ(s["episodes_skipped"], 2);
  EXPECT_EQ(s["episodes_written"], 0);
  EXPECT_EQ(s["attempts"], 0);
  EXPECT_EQ(s["frames_total"].get<long>(), frames);

  // Episode 1 deleted, episode 0 truncated: both are redone, with one worker, identically.
  fs::remove(dir + "/press_bell/piper_demo_clean/data/episode1.hdf5");
  const std::string ep0 = dir + "/press_bell/piper_demo_clean/data/episode0.hdf5";
  fs::resize_file(ep0, fs::file_size(ep0) / 2);
  r = RunDatagen(absl::StrCat("--task press_bell --embodiment piper --episodes 2 --seed 11 --out ", dir,
                              " --workers 1"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("episode 0 is damaged, redoing it"));
  s = Json(r.out);
  EXPECT_EQ(s["episodes_written"], 2);
  EXPECT_EQ(s["episodes_redone"], 1);
  EXPECT_THAT(s["episodes"][0]["note"].get<std::string>(), HasSubstr("episode0.hdf5"));
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<mivla::data::RobotEpisode> e = mivla::data::ReadRoboTwinEpisode(
        absl::StrCat(dir, "/press_bell/piper_demo_clean/data/episode", i, ".hdf5"));
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(e->arms[1].joints, first[i].arms[1].joints) << "episode " << i;
    EXPECT_EQ(e->arms[1].gripper, first[i].arms[1].gripper) << "episode " << i;
  }
  fs::remove_all(dir);
}

// Expert takeover against a mivla-server on the bundled model: the policy drives 5-15 ticks, the expert
// finishes; the written episode starts where the policy left the arm, not at the expert's home pose.
TEST(MivlaDatagenCli, TakeoverEpisodesStartWhereThePolicyLeftTheArm) {
  const std::string dir = TempDir("takeover");
  const std::string server_out = dir + "/server.out";
  const pid_t server = fork();
  if (server == 0) {
    const int fd = ::open(server_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    const int err = ::open((dir + "/server.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, 2);
    ::execl(MIVLA_SERVER_BIN, MIVLA_SERVER_BIN, "--model-dir", MIVLA_MODEL_DIR, "--port", "0", "--host", "127.0.0.1",
            "--metrics-port", "-1", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int port = 0;
  const std::regex listening(R"("port":(\d+))");
  for (int i = 0; i < 1200 && port == 0; ++i) {
    std::smatch m;
    const std::string text = Slurp(server_out);
    if (std::regex_search(text, m, listening)) port = std::stoi(m[1]);
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(port, 0) << Slurp(dir + "/server.log");
  const std::string common =
      "--task place_block_basket --embodiment piper --episodes 2 --seed 5 --workers 1 --no-progress";
  Result r = RunDatagen(
      absl::StrCat(common, " --out ", dir, "/takeover --policy-server 127.0.0.1:", port, " --takeover-ticks 5:15"));
  ::kill(server, SIGTERM);
  int status = 0;
  ::waitpid(server, &status, 0);
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json s = Json(r.out);
  EXPECT_EQ(s["takeover"]["policy_server"], absl::StrCat("127.0.0.1:", port));
  EXPECT_EQ(s["takeover"]["min_ticks"], 5);
  EXPECT_EQ(s["takeover"]["max_ticks"], 15);
  EXPECT_EQ(s["episodes_written"], 2);
  for (const nlohmann::json& e : s["episodes"]) {
    EXPECT_GE(e["takeover_tick"].get<int>(), 5) << e.dump();
    EXPECT_LE(e["takeover_tick"].get<int>(), 15) << e.dump();
  }
  EXPECT_TRUE(fs::exists(dir + "/takeover/takeover.log"));

  // The same seeds with the expert alone start at the home pose.
  r = RunDatagen(absl::StrCat(common, " --out ", dir, "/expert"));
  ASSERT_EQ(r.code, 0) << r.err;
  for (int i = 0; i < 2; ++i) {
    const std::string rel = absl::StrCat("/place_block_basket/piper_demo_clean/data/episode", i, ".hdf5");
    absl::StatusOr<mivla::data::RobotEpisode> taken = mivla::data::ReadRoboTwinEpisode(dir + "/takeover" + rel);
    absl::StatusOr<mivla::data::RobotEpisode> expert = mivla::data::ReadRoboTwinEpisode(dir + "/expert" + rel);
    ASSERT_TRUE(taken.ok() && expert.ok()) << taken.status() << expert.status();
    ASSERT_EQ(taken->cameras.size(), 2u);
    EXPECT_EQ(taken->cameras[0].frames.size(), static_cast<size_t>(taken->num_frames()));
    double moved = 0;
    for (size_t j = 0; j < 6; ++j) {
      moved = std::max(moved, std::abs(taken->arms[1].joints[0][j] - expert->arms[1].joints[0][j]));
    }
    EXPECT_GT(moved, 1e-3) << "episode " << i << ": the policy's ticks did not move the arm";
  }
  fs::remove_all(dir);
}

// A robot-client file that is missing or for another embodiment stops a takeover run before it creates
// its output directory (and before it tries to reach the policy server, here a closed port).
TEST(MivlaDatagenCli, ABadRobotConfigStopsATakeoverRunBeforeItCreatesAnything) {
  const std::string dir = TempDir("bad_robot_config");
  const std::string common =
      "--task place_block_basket --embodiment piper --episodes 1 --workers 1 --no-progress --policy-server "
      "127.0.0.1:1";
  Result r = RunDatagen(absl::StrCat(common, " --out ", dir, "/missing --robot-config ", dir, "/nonexistent.json"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("mivla-datagen: --robot-config: "));
  EXPECT_THAT(r.err, HasSubstr("nonexistent.json"));
  EXPECT_FALSE(fs::exists(dir + "/missing"));
  const std::string arx5 = fs::path(MIVLA_MODEL_DIR).parent_path() / "client" / "config" / "arx5.json";
  r = RunDatagen(absl::StrCat(common, " --out ", dir, "/wrong --robot-config ", arx5));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("arx5.json is for arx5, not piper"));
  EXPECT_FALSE(fs::exists(dir + "/wrong"));
  fs::remove_all(dir);
}

TEST(MivlaDatagenCli, HumanRunWritesEgoDexFiles) {
  const std::string dir = TempDir("human");
  const std::string cmd =
      absl::StrCat("--task press_bell --embodiment human --episodes 2 --mode hard --seed 4 --out ", dir, " --workers 2");
  Result r = RunDatagen(cmd);
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json s = Json(r.out);
  EXPECT_EQ(s["format"], "egodex");
  EXPECT_EQ(s["mode"], "hard");
  EXPECT_EQ(s["episodes_written"], 2);
  for (int i = 0; i < 2; ++i) {
    const std::string path = absl::StrCat(dir, "/human_demo_randomized/press_bell/", i, ".hdf5");
    absl::StatusOr<mivla::data::EgoDexLayoutReport> layout = mivla::data::CheckEgoDexLayout(path);
    ASSERT_TRUE(layout.ok()) << layout.status();
    EXPECT_TRUE(layout->ok()) << ::testing::PrintToString(layout->problems);
    absl::StatusOr<mivla::data::HumanEpisode> e = mivla::data::ReadEgoDexEpisode(path);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(e->video.frames.size(), static_cast<size_t>(e->num_frames()));
    EXPECT_EQ(e->video.width, 320);
    EXPECT_EQ(s["episodes"][i]["frames"], e->num_frames());
    EXPECT_FALSE(e->Instruction().empty());
    EXPECT_EQ(e->attributes["task"], "press_bell");
  }
  absl::StatusOr<mivla::data::Dataset> d = mivla::data::LoadDataset(dir, mivla::data::DatasetOptions{});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->episodes.size(), 2u);
  EXPECT_TRUE(d->skipped.empty());
  r = RunDatagen(cmd);
  ASSERT_EQ(r.code, 0) << r.err;
  s = Json(r.out);
  EXPECT_EQ(s["episodes_skipped"], 2);
  EXPECT_EQ(s["episodes_written"], 0);
  fs::remove_all(dir);
}

// Each worker makes its renderer before its first episode; one that cannot (here: libglvnd finds no
// EGL vendor) stops the run with an error naming the worker and EGL's reason.
TEST(MivlaDatagenCli, ARendererThatCannotBeCreatedStopsTheRun) {
  const std::string dir = TempDir("no_egl");
  setenv("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl_vendor.json", /*overwrite=*/1);
  const Result r = RunDatagen(absl::StrCat("--task press_bell --embodiment piper --episodes 1 --workers 1 --no-progress --out ", dir));
  unsetenv("__EGL_VENDOR_LIBRARY_FILENAMES");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("datagen worker 0: cannot create the renderer: Renderer: "));
  EXPECT_FALSE(fs::exists(fs::path(dir) / "summary.json"));
  fs::remove_all(dir);
}

TEST(MivlaDatagenCli, BadFlagsExitWithCodeTwoAndSayWhy) {
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"--task fold --embodiment piper --episodes 1 --out /tmp/x", "--task: unknown task 'fold' (valid: "},
      {"--task press_bell --embodiment franka --episodes 1 --out /tmp/x",
       "unknown embodiment 'franka' (valid: human, piper, arx5, locoman, aloha)"},
      {"--task handover_block --embodiment arx5 --episodes 1 --out /tmp/x",
       "task 'handover_block' does not support 'arx5' (it supports: aloha, locoman, human)"},
      {"--task press_bell --embodiment piper --episodes -2 --out /tmp/x", "--episodes: -2 is out of range"},
      {"--task press_bell --embodiment piper --episodes 1 --out /tmp/x --workers lots",
       "--workers: 'lots' is not a whole number"},
      {"--task press_bell --embodiment piper --episodes 1", "--out: required"},
      {"--preview --out sheet.gif", "--out: 'sheet.gif' must end in .png"},
  };
  for (const Case& c : cases) {
    const Result r = RunDatagen(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args;
    EXPECT_THAT(r.err, HasSubstr("usage:")) << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
}

}  // namespace
