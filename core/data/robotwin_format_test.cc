#include "core/data/robotwin_format.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/data/hdf5_file.h"
#include "core/data/test_util.h"

namespace mivla::data {
namespace {

using ::testing::HasSubstr;
using action::Embodiment;

void ExpectSameArms(const RobotEpisode& a, const RobotEpisode& b) {
  for (int s = 0; s < 2; ++s) {
    ASSERT_EQ(a.arms[s].present, b.arms[s].present) << "arm " << s;
    if (!a.arms[s].present) continue;
    ASSERT_EQ(a.arms[s].joints.size(), b.arms[s].joints.size());
    for (size_t t = 0; t < a.arms[s].joints.size(); ++t) {
      ASSERT_EQ(a.arms[s].joints[t].size(), b.arms[s].joints[t].size());
      for (size_t j = 0; j < a.arms[s].joints[t].size(); ++j) EXPECT_NEAR(a.arms[s].joints[t][j], b.arms[s].joints[t][j], 1e-12);
      EXPECT_NEAR(a.arms[s].gripper[t], b.arms[s].gripper[t], 1e-12) << "arm " << s << " t " << t;
      for (int k = 0; k < 7; ++k) EXPECT_NEAR(a.arms[s].endpose[t][k], b.arms[s].endpose[t][k], 1e-12);
    }
  }
}

TEST(RoboTwinFormatTest, WriteReadRoundTripAllEmbodiments) {
  for (Embodiment tag : {Embodiment::kAlohaAgilex, Embodiment::kPiper, Embodiment::kArx5, Embodiment::kLocoman}) {
    SCOPED_TRACE(std::string(action::EmbodimentName(tag)));
    const std::string dir = testing::MakeTempDir("robotwin");
    RobotEpisode e = testing::MakeRobotEpisode(tag, 6);
    ASSERT_TRUE(WriteRoboTwinEpisode(dir, 3, e).ok());
    const std::string path = dir + "/data/episode3.hdf5";
    ASSERT_TRUE(std::filesystem::exists(path));
    ASSERT_TRUE(std::filesystem::exists(dir + "/instructions/episode3.json"));
    auto back = ReadRoboTwinEpisode(path);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->embodiment, tag);
    EXPECT_EQ(back->task, "move_bottle_pad");
    EXPECT_EQ(back->num_frames(), 6);
    ExpectSameArms(e, *back);
    EXPECT_EQ(back->instructions_seen, e.instructions_seen);
    EXPECT_EQ(back->instructions_unseen, e.instructions_unseen);
    ASSERT_EQ(back->cameras.size(), e.cameras.size());
    for (const CameraStream& cam : e.cameras) {
      auto it = std::find_if(back->cameras.begin(), back->cameras.end(),
                             [&](const CameraStream& c) { return c.name == cam.name; });
      ASSERT_NE(it, back->cameras.end()) << cam.name;
      ASSERT_EQ(it->frames.size(), cam.frames.size());
      for (size_t t = 0; t < cam.frames.size(); ++t) EXPECT_LT(MeanAbsDiff(it->frames[t], cam.frames[t]), 2.0);
      EXPECT_LT((it->intrinsic - cam.intrinsic).cwiseAbs().maxCoeff(), 1e-4);
      EXPECT_LT((it->cam2world - cam.cam2world).cwiseAbs().maxCoeff(), 1e-5);
    }
  }
}

TEST(RoboTwinFormatTest, FileLayoutIsRoboTwins) {
  const std::string dir = testing::MakeTempDir("robotwin_layout");
  RobotEpisode e = testing::MakeRobotEpisode(Embodiment::kAlohaAgilex, 4);
  ASSERT_TRUE(WriteRoboTwinEpisode(dir, 0, e).ok());
  auto f = Hdf5File::Open(dir + "/data/episode0.hdf5");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*(*f)->Shape("joint_action/left_arm"), (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(*(*f)->Shape("joint_action/right_gripper"), (std::vector<int64_t>{4}));
  EXPECT_EQ(*(*f)->Shape("joint_action/vector"), (std::vector<int64_t>{4, 14}));
  EXPECT_EQ(*(*f)->Shape("endpose/left_endpose"), (std::vector<int64_t>{4, 7}));
  EXPECT_EQ(*(*f)->Shape("observation/head_camera/rgb"), (std::vector<int64_t>{4}));
  EXPECT_EQ(*(*f)->Shape("observation/head_camera/intrinsic_cv"), (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(*(*f)->Shape("observation/head_camera/extrinsic_cv"), (std::vector<int64_t>{4, 3, 4}));
  // Grippers are normalised 0..1 over the PiPER-type range (0..0.07 m); vector = [l arm, l grip, r arm, r grip].
  auto grip = (*f)->ReadNumeric("joint_action/left_gripper");
  auto vec = (*f)->ReadNumeric("joint_action/vector");
  ASSERT_TRUE(grip.ok() && vec.ok());
  EXPECT_NEAR(grip->values[2], e.arms[0].gripper[2] / 0.07, 1e-9);
  EXPECT_NEAR(vec->values[2 * 14 + 6], grip->values[2], 1e-12);
  EXPECT_NEAR(vec->values[2 * 14 + 7], e.arms[1].joints[2][0], 1e-12);
  // rgb is a fixed-width byte array: every element is padded to the longest JPEG.
  auto rgb = (*f)->ReadBytes("observation/head_camera/rgb", /*strip_nulls=*/false);
  ASSERT_TRUE(rgb.ok());
  EXPECT_EQ((*rgb)[0].size(), (*rgb)[3].size());
  EXPECT_EQ(static_cast<unsigned char>((*rgb)[0][0]), 0xFF);  // JPEG SOI
  EXPECT_EQ(static_cast<unsigned char>((*rgb)[0][1]), 0xD8);
  // The instruction file is RoboTwin's {"seen": [...], "unseen": [...]}.
  std::ifstream in(dir + "/instructions/episode0.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("\"seen\""));
  EXPECT_THAT(text, HasSubstr("\"unseen\""));
}

TEST(RoboTwinFormatTest, OneArmedRobotWritesTheRightArmOnly) {
  const std::string dir = testing::MakeTempDir("robotwin_piper");
  ASSERT_TRUE(WriteRoboTwinEpisode(dir, 1, testing::MakeRobotEpisode(Embodiment::kPiper, 3)).ok());
  auto f = Hdf5File::Open(dir + "/data/episode1.hdf5");
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE((*f)->Exists("joint_action/left_arm"));
  EXPECT_EQ(*(*f)->Shape("joint_action/vector"), (std::vector<int64_t>{3, 7}));
}

TEST(RoboTwinFormatTest, SolidRedFrameDecodesRedAndIsStoredTheRoboTwinWay) {
  const std::string dir = testing::MakeTempDir("robotwin_red");
  RobotEpisode e = testing::MakeRobotEpisode(Embodiment::kPiper, 2);
  for (RgbImage& img : e.cameras[0].frames) img = RgbImage::Solid(img.width, img.height, 255, 0, 0);
  ASSERT_TRUE(WriteRoboTwinEpisode(dir, 0, e).ok());
  auto back = ReadRoboTwinEpisode(dir + "/data/episode0.hdf5");
  ASSERT_TRUE(back.ok()) << back.status();
  auto mean = MeanRgb(back->cameras[0].frames[0]);
  EXPECT_GT(mean[0], 245);
  EXPECT_LT(mean[1], 10);
  EXPECT_LT(mean[2], 10);
  // As in real RoboTwin files, a standard (RGB-native) JPEG decoder sees the red frame as blue.
  auto f = Hdf5File::Open(dir + "/data/episode0.hdf5");
  auto bytes = (*f)->ReadBytesAt("observation/head_camera/rgb", 0, true);
  ASSERT_TRUE(bytes.ok());
  auto standard = DecodeJpeg(*bytes, JpegChannelOrder::kStandard);
  ASSERT_TRUE(standard.ok());
  EXPECT_GT(MeanRgb(*standard)[2], 245);
}

TEST(RoboTwinFormatTest, RealStyleFileWithoutOurAttributesLoadsAsAloha) {
  const std::string dir = testing::MakeTempDir("robotwin_real");
  std::filesystem::create_directories(dir + "/data");
  const std::string path = dir + "/data/episode7.hdf5";
  {
    auto f = Hdf5File::Create(path);
    ASSERT_TRUE(f.ok());
    for (const char* side : {"left", "right"}) {
      ASSERT_TRUE((*f)->WriteNumeric(std::string("joint_action/") + side + "_arm", {2, 6}, std::vector<double>(12, 0.5),
                                     Hdf5Type::kFloat64).ok());
      ASSERT_TRUE((*f)->WriteNumeric(std::string("joint_action/") + side + "_gripper", {2}, {1.0, 0.0},
                                     Hdf5Type::kFloat64).ok());
    }
    auto jpeg = EncodeJpeg(RgbImage::Solid(8, 8, 0, 255, 0), JpegChannelOrder::kRoboTwin);
    ASSERT_TRUE((*f)->WriteFixedBytes("observation/head_camera/rgb", {*jpeg, *jpeg}).ok());
  }
  auto e = ReadRoboTwinEpisode(path);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->embodiment, Embodiment::kAlohaAgilex);
  EXPECT_NEAR(e->arms[0].gripper[0], 0.07, 1e-9);  // 1.0 = fully open
  EXPECT_NEAR(e->arms[1].gripper[1], 0.0, 1e-9);
  EXPECT_TRUE(e->arms[0].endpose.empty());
  EXPECT_TRUE(e->instructions_seen.empty());
  EXPECT_EQ(e->cameras[0].width, 8);
}

TEST(RoboTwinFormatTest, CorruptJpegAndBadInstructionsAreClearErrors) {
  const std::string dir = testing::MakeTempDir("robotwin_corrupt");
  std::filesystem::create_directories(dir + "/data");
  const std::string path = dir + "/data/episode0.hdf5";
  {
    auto f = Hdf5File::Create(path);
    ASSERT_TRUE((*f)->WriteNumeric("joint_action/right_arm", {1, 6}, std::vector<double>(6), Hdf5Type::kFloat64).ok());
    ASSERT_TRUE((*f)->WriteNumeric("joint_action/right_gripper", {1}, {0.5}, Hdf5Type::kFloat64).ok());
    ASSERT_TRUE((*f)->WriteFixedBytes("observation/head_camera/rgb", {"not a jpeg"}).ok());
  }
  auto e = ReadRoboTwinEpisode(path);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("'observation/head_camera/rgb'[0]"));
  RoboTwinReadOptions no_images;
  no_images.load_images = false;
  e = ReadRoboTwinEpisode(path, no_images);
  ASSERT_FALSE(e.ok());  // frame 0 is still decoded for the camera size
  // Bad instruction JSON names the instruction file.
  RobotEpisode good = testing::MakeRobotEpisode(Embodiment::kPiper, 2);
  ASSERT_TRUE(WriteRoboTwinEpisode(dir, 1, good).ok());
  std::ofstream(dir + "/instructions/episode1.json") << "{\"seen\": [1, 2";
  e = ReadRoboTwinEpisode(dir + "/data/episode1.hdf5");
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("instructions/episode1.json: instruction file is not a JSON"));
}

TEST(RoboTwinFormatTest, InvalidEpisodeIsRejected) {
  RobotEpisode e = testing::MakeRobotEpisode(Embodiment::kAlohaAgilex, 3);
  e.arms[1].gripper.pop_back();
  auto s = WriteRoboTwinEpisode(testing::MakeTempDir("robotwin_inv"), 0, e);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("arms[1].gripper: 2 entries, expected 3"));
}

}  // namespace
}  // namespace mivla::data
