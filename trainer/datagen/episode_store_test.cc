// File: episode_store_test.cc
// Conversion of real (short) rollouts and the store's write / finished / damaged-file behaviour.
#include "trainer/datagen/episode_store.h"

#include <filesystem>
#include <fstream>

#include "core/data/egodex_format.h"
#include "core/data/robotwin_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/renderer.h"
#include "trainer/datagen/episode_convert.h"

namespace mivla::datagen {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / absl::StrCat("mivla_datagen_store_", name, "_", getpid());
  fs::remove_all(p);
  return p.string();
}

struct Rollout {
  sim::Episode episode;
  std::vector<SceneCamera> cameras;
};

Rollout RunRollout(action::Embodiment e) {
  static std::unique_ptr<sim::Renderer> renderer = [] {
    absl::StatusOr<std::unique_ptr<sim::Renderer>> r = sim::Renderer::Create();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }();
  sim::EpisodeOptions o;
  o.task = "press_bell";
  o.embodiment = e;
  o.seed = 3;
  o.render = true;
  Rollout out;
  absl::StatusOr<sim::Episode> ep = sim::RunEpisode(o, renderer.get());
  EXPECT_TRUE(ep.ok()) << ep.status();
  if (!ep.ok()) return out;
  out.episode = std::move(*ep);
  absl::StatusOr<sim::EpisodeScene> scene = sim::MakeEpisodeScene(o);
  EXPECT_TRUE(scene.ok()) << scene.status();
  if (scene.ok()) out.cameras = DescribeCameras(*scene->env);
  return out;
}

TEST(EpisodeStore, Layout) {
  EpisodeStore robot("/d", "press_bell", action::Embodiment::kArx5, sim::Mode::kHard);
  EXPECT_EQ(robot.HdfPath(3), "/d/press_bell/arx5_demo_randomized/data/episode3.hdf5");
  EXPECT_EQ(robot.CompanionPath(3), "/d/press_bell/arx5_demo_randomized/instructions/episode3.json");
  EpisodeStore human("/d", "press_bell", action::Embodiment::kHuman, sim::Mode::kEasy);
  EXPECT_EQ(human.HdfPath(0), "/d/human_demo_clean/press_bell/0.hdf5");
  EXPECT_EQ(human.CompanionPath(0), "/d/human_demo_clean/press_bell/0.mp4");
  EXPECT_EQ(human.PartialRoot(), "/d/.partial");
}

TEST(EpisodeConvert, RobotEpisodeFromARollout) {
  const Rollout r = RunRollout(action::Embodiment::kPiper);
  ASSERT_TRUE(r.episode.success);
  absl::StatusOr<data::RobotEpisode> e = ToRobotEpisode(r.episode, r.cameras);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(data::ValidateEpisode(*e).ok());
  EXPECT_EQ(e->embodiment, action::Embodiment::kPiper);
  EXPECT_FALSE(e->arms[0].present);  // one-armed: the right slots
  ASSERT_TRUE(e->arms[1].present);
  EXPECT_EQ(e->num_frames(), r.episode.num_steps);
  EXPECT_EQ(e->arms[1].joints.front().size(), 6u);
  EXPECT_EQ(e->arms[1].joints.back(), r.episode.steps.back().arms[0].joints);
  const auto& pose = e->arms[1].endpose.front();
  EXPECT_NEAR(pose[3] * pose[3] + pose[4] * pose[4] + pose[5] * pose[5] + pose[6] * pose[6], 1.0, 1e-9);
  EXPECT_NEAR(pose[0], r.episode.steps.front().arms[0].ee_world.translation().x(), 1e-12);
  ASSERT_EQ(e->cameras.size(), 2u);
  EXPECT_EQ(e->cameras[0].name, "head_camera");
  EXPECT_TRUE(e->cameras[0].has_calibration);    // fixed to the world
  EXPECT_EQ(e->cameras[1].name, "right_camera");
  EXPECT_FALSE(e->cameras[1].has_calibration);   // moves with the wrist
  // The head camera looks down at the table (OpenCV +z forward has a negative world z component).
  EXPECT_LT(e->cameras[0].cam2world(2, 2), -0.3);
  EXPECT_EQ(e->instructions_seen.front(), r.episode.instruction);
  EXPECT_FALSE(e->instructions_unseen.empty());
}

TEST(EpisodeConvert, HumanEpisodeFromARollout) {
  const Rollout r = RunRollout(action::Embodiment::kHuman);
  ASSERT_TRUE(r.episode.success);
  absl::StatusOr<data::HumanEpisode> e = ToHumanEpisode(r.episode);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(data::ValidateEpisode(*e).ok());
  EXPECT_DOUBLE_EQ(e->fps, 25.0);
  EXPECT_EQ(e->num_frames(), r.episode.num_steps);
  ASSERT_TRUE(e->transforms.count("camera"));
  ASSERT_TRUE(e->transforms.count("rightHand"));
  EXPECT_EQ(e->video.frames.size(), static_cast<size_t>(r.episode.num_steps));
  EXPECT_EQ(e->Instruction(), r.episode.instruction);
  EXPECT_FALSE(ToRobotEpisode(r.episode, r.cameras).ok());
}

TEST(EpisodeStore, WritesFinishedFilesAndRedoesDamagedOnes) {
  const std::string dir = TempDir("robot");
  EpisodeStore store(dir, "press_bell", action::Embodiment::kPiper, sim::Mode::kEasy);
  EXPECT_EQ(store.Finished(0).status().code(), absl::StatusCode::kNotFound);
  const Rollout r = RunRollout(action::Embodiment::kPiper);
  absl::StatusOr<int> frames = store.Write(0, r.episode, r.cameras);
  ASSERT_TRUE(frames.ok()) << frames.status();
  EXPECT_EQ(*frames, r.episode.num_steps);
  absl::StatusOr<int> finished = store.Finished(0);
  ASSERT_TRUE(finished.ok()) << finished.status();
  EXPECT_EQ(*finished, *frames);
  EXPECT_FALSE(fs::exists(fs::path(dir) / ".partial" / "press_bell" / "piper_demo_clean" / "0"));
  absl::StatusOr<data::RobotEpisode> back = data::ReadRoboTwinEpisode(store.HdfPath(0));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->arms[1].joints.size(), r.episode.steps.size());
  EXPECT_NEAR(back->arms[1].joints[10][2], r.episode.steps[10].arms[0].joints[2], 1e-6);

  // Without its instruction file the episode is not finished.
  fs::rename(store.CompanionPath(0), store.CompanionPath(0) + ".x");
  EXPECT_EQ(store.Finished(0).status().code(), absl::StatusCode::kNotFound);
  fs::rename(store.CompanionPath(0) + ".x", store.CompanionPath(0));
  // A truncated HDF5 file is damaged, and the message names it.
  fs::resize_file(store.HdfPath(0), fs::file_size(store.HdfPath(0)) / 3);
  absl::StatusOr<int> damaged = store.Finished(0);
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(damaged.status().message()), HasSubstr("episode0.hdf5"));
  ASSERT_TRUE(store.Write(0, r.episode, r.cameras).ok());
  EXPECT_TRUE(store.Finished(0).ok());
  fs::remove_all(dir);
}

TEST(EpisodeStore, HumanEpisodePassesTheEgoDexLayoutCheck) {
  const std::string dir = TempDir("human");
  EpisodeStore store(dir, "press_bell", action::Embodiment::kHuman, sim::Mode::kEasy);
  const Rollout r = RunRollout(action::Embodiment::kHuman);
  absl::StatusOr<int> frames = store.Write(1, r.episode, {});
  ASSERT_TRUE(frames.ok()) << frames.status();
  absl::StatusOr<data::EgoDexLayoutReport> layout = data::CheckEgoDexLayout(store.HdfPath(1));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_TRUE(layout->ok()) << ::testing::PrintToString(layout->problems);
  EXPECT_EQ(layout->num_frames, *frames);
  EXPECT_TRUE(store.Finished(1).ok());
  fs::remove(store.CompanionPath(1));  // no video: not finished
  EXPECT_EQ(store.Finished(1).status().code(), absl::StatusCode::kNotFound);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mivla::datagen
