#include "core/data/episode_loader.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/data/egodex_format.h"
#include "core/data/hdf5_file.h"
#include "core/data/native_format.h"
#include "core/data/robotwin_format.h"
#include "core/data/test_util.h"

namespace mivla::data {
namespace {

using ::testing::HasSubstr;
using action::Embodiment;

TEST(NativeFormatTest, RoundTrip) {
  auto u = UnifyRobotEpisode(testing::MakeRobotEpisode(Embodiment::kAlohaAgilex, 4));
  ASSERT_TRUE(u.ok());
  const std::string path = testing::MakeTempDir("native") + "/ep.hdf5";
  ASSERT_TRUE(WriteNativeEpisode(path, *u).ok());
  auto back = ReadNativeEpisode(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->embodiment, Embodiment::kAlohaAgilex);
  EXPECT_EQ(back->instruction, u->instruction);
  EXPECT_EQ(back->instructions, u->instructions);
  ASSERT_EQ(back->num_frames(), 4);
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(back->masks[t], u->masks[t]);
    for (int i = 0; i < action::kActionDim; ++i) EXPECT_NEAR(back->states[t][i], u->states[t][i], 1e-6);
  }
  ASSERT_EQ(back->cameras.size(), 3u);
  EXPECT_LT(MeanAbsDiff(back->cameras[1].frames[2], u->cameras[1].frames[2]), 2.0);
}

TEST(NativeFormatTest, VersionOneEndEffectorsAreRecomputedInTheBaseFrame) {
  // A version 1 file written the old way: end-effector slots holding world-frame poses.
  auto u = UnifyRobotEpisode(testing::MakeRobotEpisode(Embodiment::kPiper, 3, 0, 0));
  ASSERT_TRUE(u.ok());
  const std::string path = testing::MakeTempDir("native_v1") + "/ep.hdf5";
  {
    auto f = Hdf5File::Create(path);
    ASSERT_TRUE(f.ok());
    std::vector<double> states, mask;
    for (int t = 0; t < 3; ++t) {
      UnifiedVector v = u->states[t];
      v[action::kEndEffectorRight.begin + 2] += 0.75;  // a world frame: the base sits on a 0.75 m table
      states.insert(states.end(), v.begin(), v.end());
      for (int i = 0; i < action::kActionDim; ++i) mask.push_back(u->masks[t][i] ? 1.0 : 0.0);
    }
    ASSERT_TRUE((*f)->WriteNumeric("unified/states", {3, action::kActionDim}, states, Hdf5Type::kFloat32).ok());
    ASSERT_TRUE((*f)->WriteNumeric("unified/mask", {3, action::kActionDim}, mask, Hdf5Type::kUint8).ok());
    ASSERT_TRUE((*f)->WriteStringAttribute("/", "mivla_format", kNativeFormatTagV1).ok());
    ASSERT_TRUE((*f)->WriteStringAttribute("/", "embodiment", "PIPER").ok());
  }
  auto back = LoadUnifiedEpisode(path, {});
  ASSERT_TRUE(back.ok()) << back.status();
  for (int t = 0; t < 3; ++t) {
    for (int i = 0; i < action::kActionDim; ++i) EXPECT_NEAR(back->states[t][i], u->states[t][i], 1e-6) << t << " " << i;
  }
}

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("dataset");
    ASSERT_TRUE(WriteEgoDexEpisode(dir_ + "/human/pick/0.hdf5", testing::MakeHumanEpisode(5, 32, 24)).ok());
    ASSERT_TRUE(WriteRoboTwinEpisode(dir_ + "/robot/move/demo_clean", 0,
                                     testing::MakeRobotEpisode(Embodiment::kAlohaAgilex, 5, 32, 24)).ok());
    ASSERT_TRUE(WriteRoboTwinEpisode(dir_ + "/robot/move/demo_clean", 1,
                                     testing::MakeRobotEpisode(Embodiment::kAlohaAgilex, 5, 32, 24)).ok());
    auto u = UnifyRobotEpisode(testing::MakeRobotEpisode(Embodiment::kPiper, 3, 32, 24));
    ASSERT_TRUE(u.ok());
    ASSERT_TRUE(WriteNativeEpisode(dir_ + "/native_ep.hdf5", *u).ok());
  }
  std::string dir_;
};

TEST_F(DatasetTest, DetectsEachFormat) {
  EXPECT_EQ(*DetectFormat(dir_ + "/human/pick/0.hdf5"), EpisodeFormat::kEgoDex);
  EXPECT_EQ(*DetectFormat(dir_ + "/robot/move/demo_clean/data/episode0.hdf5"), EpisodeFormat::kRoboTwin);
  EXPECT_EQ(*DetectFormat(dir_ + "/native_ep.hdf5"), EpisodeFormat::kNative);
  EpisodeFormat f;
  auto e = LoadUnifiedEpisode(dir_ + "/human/pick/0.hdf5", {}, &f);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(f, EpisodeFormat::kEgoDex);
  EXPECT_EQ(e->embodiment, Embodiment::kHuman);
  EXPECT_EQ(e->cameras[0].frames.size(), 5u);
  auto missing = DetectFormat(dir_ + "/nope.hdf5");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("nope.hdf5: cannot open"));
}

TEST_F(DatasetTest, LoadsAllGoodEpisodes) {
  int progress_calls = 0;
  DatasetOptions o;
  o.on_progress = [&](int done, int total, const std::string&) {
    ++progress_calls;
    EXPECT_EQ(total, 4);
    EXPECT_LE(done, total);
  };
  auto d = LoadDataset(dir_, o);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->episodes.size(), 4u);
  EXPECT_TRUE(d->skipped.empty());
  EXPECT_EQ(progress_calls, 4);
}

TEST_F(DatasetTest, TruncatedAndCorruptEpisodesAreSkippedWithPathAndReason) {
  const std::string truncated = dir_ + "/robot/move/demo_clean/data/episode1.hdf5";
  std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) / 3);
  const std::string garbage = dir_ + "/human/pick/1.hdf5";
  std::ofstream(garbage) << "this is not an hdf5 file";
  // An EgoDex file whose video is cut short.
  ASSERT_TRUE(WriteEgoDexEpisode(dir_ + "/human/pick/2.hdf5", testing::MakeHumanEpisode(6, 32, 24)).ok());
  std::filesystem::resize_file(dir_ + "/human/pick/2.mp4", 200);
  std::vector<DatasetError> reported;
  DatasetOptions o;
  o.on_skip = [&](const DatasetError& e) { reported.push_back(e); };
  auto d = LoadDataset(dir_, o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->episodes.size(), 3u);  // human 0, robot 0, native
  ASSERT_EQ(d->skipped.size(), 3u);
  ASSERT_EQ(reported.size(), 3u);
  std::map<std::string, std::string> why;
  for (const DatasetError& e : d->skipped) why[e.path] = e.reason;
  ASSERT_TRUE(why.count(truncated));
  EXPECT_THAT(why[truncated], HasSubstr("truncated"));
  ASSERT_TRUE(why.count(garbage));
  EXPECT_THAT(why[garbage], HasSubstr("not an HDF5 file"));
  ASSERT_TRUE(why.count(dir_ + "/human/pick/2.hdf5"));
  EXPECT_THAT(why[dir_ + "/human/pick/2.hdf5"], HasSubstr("2.mp4"));
  for (const UnifiedEpisode& e : d->episodes) EXPECT_NE(e.source, truncated);
}

TEST_F(DatasetTest, MissingDirectoryIsAnError) {
  auto d = LoadDataset(dir_ + "/nothing_here", {});
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("not a directory"));
}

}  // namespace
}  // namespace mivla::data
