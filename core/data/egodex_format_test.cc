#include "core/data/egodex_format.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/data/hdf5_file.h"
#include "core/data/test_util.h"

namespace mivla::data {
namespace {

using ::testing::HasSubstr;

TEST(EgoDexFormatTest, JointNamesMatchThePublishedCount) {
  EXPECT_EQ(EgoDexJointNames().size(), 69u);
  EXPECT_EQ(EgoDexJointNames()[0], "camera");
  std::set<std::string> unique(EgoDexJointNames().begin(), EgoDexJointNames().end());
  EXPECT_EQ(unique.size(), 69u);
  EXPECT_TRUE(unique.count("rightLittleFingerIntermediateTip"));
  EXPECT_TRUE(unique.count("leftThumbIntermediateBase"));
  EXPECT_TRUE(unique.count("spine7"));
  EXPECT_TRUE(unique.count("neck4"));
}

TEST(EgoDexFormatTest, WriteReadRoundTrip) {
  const std::string dir = testing::MakeTempDir("egodex");
  const std::string path = dir + "/0.hdf5";
  HumanEpisode e = testing::MakeHumanEpisode(12);
  ASSERT_TRUE(WriteEgoDexEpisode(path, e).ok());
  EXPECT_TRUE(std::filesystem::exists(dir + "/0.mp4"));
  auto back = ReadEgoDexEpisode(path);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->num_frames(), 12);
  EXPECT_EQ(back->transforms.size(), 69u);  // completed skeleton
  for (const auto& [joint, track] : e.transforms) {
    ASSERT_TRUE(back->transforms.count(joint)) << joint;
    for (int t = 0; t < 12; ++t) {
      EXPECT_LT((back->transforms.at(joint)[t] - track[t]).cwiseAbs().maxCoeff(), 1e-5) << joint << " " << t;
    }
  }
  for (const auto& [joint, conf] : e.confidences) {
    for (int t = 0; t < 12; ++t) EXPECT_NEAR(back->confidences.at(joint)[t], conf[t], 1e-6);
  }
  EXPECT_EQ(back->confidences.at("hip")[0], 0.0);  // placeholder joints carry zero confidence
  EXPECT_LT((back->intrinsic - e.intrinsic).cwiseAbs().maxCoeff(), 1e-4);
  EXPECT_EQ(back->attributes, e.attributes);
  EXPECT_EQ(back->Instruction(), "pick up the red cup and place it on the plate");
  ASSERT_EQ(back->video.frames.size(), 12u);
  EXPECT_EQ(back->video.width, 64);
  for (int t = 0; t < 12; ++t) {
    EXPECT_LT(MeanAbsDiff(back->video.frames[t], e.video.frames[t]), 6.0) << "frame " << t;
  }
}

TEST(EgoDexFormatTest, SolidRedVideoComesBackRed) {
  const std::string path = testing::MakeTempDir("egodex_red") + "/1.hdf5";
  HumanEpisode e = testing::MakeHumanEpisode(3, 0);
  e.video.width = 64;
  e.video.height = 48;
  for (int t = 0; t < 3; ++t) e.video.frames.push_back(RgbImage::Solid(64, 48, 255, 0, 0));
  ASSERT_TRUE(WriteEgoDexEpisode(path, e).ok());
  auto back = ReadEgoDexEpisode(path, {.max_video_frames = 1});
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->video.frames.size(), 1u);
  auto mean = MeanRgb(back->video.frames[0]);
  EXPECT_GT(mean[0], 235);
  EXPECT_LT(mean[1], 20);
  EXPECT_LT(mean[2], 20);
}

TEST(EgoDexFormatTest, FrameRateComesFromTheVideo) {
  // The poses carry no rate; a 25 fps video (what mivla-datagen writes) makes a 25 Hz episode, with or
  // without its frames decoded, and a file without a video keeps EgoDex's 30 Hz.
  const std::string path = testing::MakeTempDir("egodex_fps") + "/2.hdf5";
  HumanEpisode e = testing::MakeHumanEpisode(6);
  e.fps = 25.0;
  ASSERT_TRUE(WriteEgoDexEpisode(path, e).ok());
  auto decoded = ReadEgoDexEpisode(path);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_NEAR(decoded->fps, 25.0, 1e-6);
  auto sizes_only = ReadEgoDexEpisode(path, {.load_video = false});
  ASSERT_TRUE(sizes_only.ok()) << sizes_only.status();
  EXPECT_NEAR(sizes_only->fps, 25.0, 1e-6);
  std::filesystem::remove(EgoDexVideoPath(path));
  auto no_video = ReadEgoDexEpisode(path);
  ASSERT_TRUE(no_video.ok()) << no_video.status();
  EXPECT_DOUBLE_EQ(no_video->fps, 30.0);
}

TEST(EgoDexFormatTest, WrittenFilePassesLayoutCheck) {
  const std::string path = testing::MakeTempDir("egodex_layout") + "/2.hdf5";
  ASSERT_TRUE(WriteEgoDexEpisode(path, testing::MakeHumanEpisode(5, 0)).ok());
  auto report = CheckEgoDexLayout(path);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << ::testing::PrintToString(report->problems);
  EXPECT_EQ(report->num_frames, 5);
  EXPECT_TRUE(report->extra_keys.empty());
}

TEST(EgoDexFormatTest, LayoutCheckNamesMissingAndMisshapenKeys) {
  const std::string path = testing::MakeTempDir("egodex_bad_layout") + "/3.hdf5";
  ASSERT_TRUE(WriteEgoDexEpisode(path, testing::MakeHumanEpisode(5, 0), {.complete_skeleton = false}).ok());
  auto report = CheckEgoDexLayout(path);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok());
  EXPECT_THAT(report->problems, ::testing::Contains("transforms/hip: missing"));
  // A hand-made file: wrong transform shape and an unknown key.
  const std::string path2 = testing::MakeTempDir("egodex_bad_layout2") + "/4.hdf5";
  {
    auto f = Hdf5File::Create(path2);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->WriteNumeric("transforms/camera", {5, 3, 4}, std::vector<double>(60), Hdf5Type::kFloat32).ok());
    ASSERT_TRUE((*f)->WriteNumeric("transforms/tail", {5, 4, 4}, std::vector<double>(80), Hdf5Type::kFloat32).ok());
  }
  report = CheckEgoDexLayout(path2);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->problems, ::testing::Contains("transforms/camera: shape is not N x 4 x 4"));
  EXPECT_THAT(report->problems, ::testing::Contains("camera/intrinsic: missing"));
  EXPECT_THAT(report->extra_keys, ::testing::Contains("transforms/tail"));
}

TEST(EgoDexFormatTest, RealStyleFileWithoutConfidencesOrVideoLoads) {
  // Real EgoDex files may store float64, omit confidences, and have fixed-length string attributes.
  const std::string path = testing::MakeTempDir("egodex_real") + "/5.hdf5";
  {
    auto f = Hdf5File::Create(path);
    ASSERT_TRUE(f.ok());
    std::vector<double> eye(2 * 16, 0.0);
    for (int t = 0; t < 2; ++t) {
      for (int i = 0; i < 4; ++i) eye[t * 16 + i * 5] = 1.0;
    }
    for (const std::string& j : EgoDexJointNames()) {
      ASSERT_TRUE((*f)->WriteNumeric("transforms/" + j, {2, 4, 4}, eye, Hdf5Type::kFloat64).ok());
    }
    ASSERT_TRUE((*f)->WriteNumeric("camera/intrinsic", {3, 3}, {736.6339, 0, 960, 0, 736.6339, 540, 0, 0, 1},
                                   Hdf5Type::kFloat32).ok());
    ASSERT_TRUE((*f)->WriteStringAttribute("/", "llm_description", "fold the towel").ok());
  }
  auto e = ReadEgoDexEpisode(path);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->num_frames(), 2);
  EXPECT_TRUE(e->confidences.empty());
  EXPECT_TRUE(e->video.frames.empty());
  EXPECT_NEAR(e->intrinsic(0, 2), 960, 1e-3);
  EXPECT_EQ(e->Instruction(), "fold the towel");
  EXPECT_TRUE(CheckEgoDexLayout(path)->ok());
  auto strict = ReadEgoDexEpisode(path, {.require_video = true});
  ASSERT_FALSE(strict.ok());
  EXPECT_THAT(std::string(strict.status().message()), HasSubstr("5.mp4: video is missing"));
}

TEST(EgoDexFormatTest, TruncatedFileIsAClearError) {
  const std::string path = testing::MakeTempDir("egodex_trunc") + "/6.hdf5";
  ASSERT_TRUE(WriteEgoDexEpisode(path, testing::MakeHumanEpisode(5, 0)).ok());
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  auto e = ReadEgoDexEpisode(path);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(std::string(e.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("truncated"));
}

TEST(EgoDexFormatTest, InvalidEpisodeIsRejectedBeforeWriting) {
  HumanEpisode e = testing::MakeHumanEpisode(4, 0);
  e.transforms["rightHand"].pop_back();
  auto s = WriteEgoDexEpisode(testing::MakeTempDir("egodex_inv") + "/7.hdf5", e);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("transforms/rightHand: 3 entries, expected 4"));
}

}  // namespace
}  // namespace mivla::data
