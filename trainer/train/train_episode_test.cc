#include "trainer/train/train_episode.h"

#include <filesystem>
#include <string>

#include "core/data/egodex_format.h"
#include "core/data/episode_loader.h"
#include "core/data/test_util.h"
#include "gtest/gtest.h"
#include "trainer/train/augment.h"

namespace mivla::trainer {
namespace {

TrainEpisodeOptions Options(int quality) {
  TrainEpisodeOptions o;
  o.control_rate_hz = 10;
  o.image_size = 24;
  o.jpeg_quality = quality;
  return o;
}

TEST(TrainEpisodeTest, KeepsResampledDownsizedFrames) {
  data::UnifiedEpisode e;
  e.source = "ep.hdf5";
  e.fps = 30;
  data::CameraStream cam;
  cam.name = "head_camera";
  for (int t = 0; t < 31; ++t) {
    e.states.push_back({});
    e.masks.push_back({});
    cam.frames.push_back(data::testing::GradientImage(64, 48, t));
  }
  e.cameras = {cam};
  for (int quality : {0, 95}) {
    auto te = MakeTrainEpisode(e, Options(quality));
    ASSERT_TRUE(te.ok()) << te.status();
    ASSERT_EQ(te->num_frames(), 11);
    EXPECT_EQ(te->raw_frames, 31);
    EXPECT_EQ(te->source_frames[4], 12);
    EXPECT_TRUE(te->episode.cameras[0].frames.empty());  // only the compact copy is kept
    auto views = te->DecodeViews(4);
    ASSERT_TRUE(views.ok());
    ASSERT_EQ(views->size(), 1u);
    EXPECT_EQ((*views)[0].first, "head_camera");
    const data::RgbImage expected = ResizeSquare(cam.frames[12], 24);
    EXPECT_LE(data::MeanAbsDiff((*views)[0].second, expected), quality == 0 ? 0.0 : 2.0);
    if (quality == 0) {
      EXPECT_EQ(te->bytes(), 11 * 24 * 24 * 3 + 11 * static_cast<int64_t>(sizeof(data::UnifiedVector)));
    }
  }
}

TEST(TrainEpisodeTest, StreamedVideoEqualsLoadedFrames) {
  const std::string dir = data::testing::MakeTempDir("stream");
  const std::string path = dir + "/0.hdf5";
  ASSERT_TRUE(data::WriteEgoDexEpisode(path, data::testing::MakeHumanEpisode(31, 64, 48)).ok());
  data::LoadOptions with, without;
  without.load_images = false;
  auto full = data::LoadUnifiedEpisode(path, with);
  auto bare = data::LoadUnifiedEpisode(path, without);
  ASSERT_TRUE(full.ok() && bare.ok());
  ASSERT_TRUE(bare->cameras[0].frames.empty());
  auto a = MakeTrainEpisode(*full, Options(90));
  auto b = MakeTrainEpisode(*bare, Options(90), data::EgoDexVideoPath(path));
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
  EXPECT_EQ(a->view_names, b->view_names);
  ASSERT_EQ(b->frames.size(), 1u);
  EXPECT_EQ(b->frames[0].size(), 11u);
  EXPECT_EQ(a->frames, b->frames);
  // Upsampling (30 fps -> 60 Hz: frames 0, 1, 1, 2, 2, ...) repeats frames from the stream as well.
  auto slow = Options(90);
  slow.control_rate_hz = 60;
  auto c = MakeTrainEpisode(*full, slow);
  auto d = MakeTrainEpisode(*bare, slow, data::EgoDexVideoPath(path));
  ASSERT_TRUE(c.ok() && d.ok());
  EXPECT_EQ(c->frames, d->frames);
  EXPECT_EQ(d->frames[0][1], d->frames[0][2]);
  EXPECT_NE(d->frames[0][0], d->frames[0][1]);
}

TEST(TrainEpisodeTest, StreamedVideoGivesTheFrameRate) {
  // mivla-datagen writes human episodes at 25 fps; the EgoDex reader takes the rate from the mp4 (the
  // hdf5 file has none) even when it loads no frames.
  const std::string dir = data::testing::MakeTempDir("fps25");
  data::HumanEpisode h = data::testing::MakeHumanEpisode(26, 32, 24);
  h.fps = 25;
  ASSERT_TRUE(data::WriteEgoDexEpisode(dir + "/0.hdf5", h).ok());
  data::LoadOptions without;
  without.load_images = false;
  auto bare = data::LoadUnifiedEpisode(dir + "/0.hdf5", without);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->fps, 25);
  auto e = MakeTrainEpisode(*bare, Options(90), dir + "/0.mp4");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->source_frames, (std::vector<int>{0, 3, 5, 8, 10, 13, 15, 18, 20, 23, 25}));
  EXPECT_EQ(e->episode.fps, 10);
}

TEST(TrainEpisodeTest, ShortVideoIsAnErrorNamingTheFile) {
  const std::string dir = data::testing::MakeTempDir("short_video");
  ASSERT_TRUE(data::WriteEgoDexEpisode(dir + "/long.hdf5", data::testing::MakeHumanEpisode(31, 32, 24)).ok());
  ASSERT_TRUE(data::WriteEgoDexEpisode(dir + "/short.hdf5", data::testing::MakeHumanEpisode(10, 32, 24)).ok());
  std::filesystem::copy_file(dir + "/short.mp4", dir + "/long.mp4", std::filesystem::copy_options::overwrite_existing);
  data::LoadOptions without;
  without.load_images = false;
  auto bare = data::LoadUnifiedEpisode(dir + "/long.hdf5", without);
  ASSERT_TRUE(bare.ok());
  auto e = MakeTrainEpisode(*bare, Options(90), dir + "/long.mp4");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(e.status().message()).find("long.mp4"), std::string::npos) << e.status();
}

}  // namespace
}  // namespace mivla::trainer
