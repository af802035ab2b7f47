#include "core/kinematics/embodiment_loader.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::kinematics {
namespace {

using ::testing::HasSubstr;

TEST(EmbodimentLoaderTest, LoadsEveryEmbodiment) {
  for (action::Embodiment e : action::kAllEmbodiments) {
    auto d = LoadEmbodiment(e);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->tag, e);
    EXPECT_FALSE(d->sources.empty());
    if (action::IsRobot(e)) {
      ASSERT_EQ(static_cast<int>(d->arms.size()), action::NumArms(e));
      for (const ArmDescription& arm : d->arms) {
        EXPECT_EQ(arm.chain.num_joints(), 6);
        EXPECT_TRUE(arm.chain.WithinLimits(arm.home)) << arm.name;
        EXPECT_GT(arm.gripper.max_m, arm.gripper.min_m);
        for (const JointSpec& j : arm.chain.joints()) EXPECT_GT(j.max_velocity, 0.0) << arm.name << " " << j.name;
      }
    } else {
      ASSERT_TRUE(d->has_hand);
      EXPECT_TRUE(d->arms.empty());
    }
  }
}

TEST(EmbodimentLoaderTest, OneArmedRobotsUseTheRightArm) {
  for (auto e : {action::Embodiment::kPiper, action::Embodiment::kArx5}) {
    auto d = LoadEmbodiment(e);
    ASSERT_TRUE(d.ok());
    EXPECT_NE(d->FindArm(Side::kRight), nullptr);
    EXPECT_EQ(d->FindArm(Side::kLeft), nullptr);
  }
}

TEST(EmbodimentLoaderTest, PiperValuesFromTheSdk) {
  auto d = LoadEmbodiment(action::Embodiment::kPiper);
  ASSERT_TRUE(d.ok());
  const ArmDescription& arm = d->arms[0];
  EXPECT_NEAR(arm.chain.joints()[1].offset, -172.22 * M_PI / 180, 1e-12);  // firmware >= S-V1.6-3
  EXPECT_NEAR(arm.chain.joints()[2].offset, -102.78 * M_PI / 180, 1e-12);
  EXPECT_DOUBLE_EQ(arm.chain.upper()[1], 3.14);
  EXPECT_DOUBLE_EQ(arm.chain.lower()[2], -2.967);
  EXPECT_DOUBLE_EQ(arm.gripper.max_m, 0.07);
}

TEST(EmbodimentLoaderTest, RetargetFramesMapArkitOntoTheBaseAndMirrorTheHands) {
  // ARKit (x right, y up, z toward the user) -> base (x forward, y left, z up): away -> forward,
  // up -> up, the user's right -> the robot's right. Pinned element by element: never the identity.
  Eigen::Matrix3d c;
  c << 0, 0, -1, -1, 0, 0, 0, 1, 0;
  for (action::Embodiment e : {action::Embodiment::kPiper, action::Embodiment::kArx5, action::Embodiment::kAlohaAgilex,
                               action::Embodiment::kLocoman}) {
    auto d = LoadEmbodiment(e);
    ASSERT_TRUE(d.ok()) << d.status();
    // The gripper's approach axis in the end-effector frame (sim/rig.cc builds the fingers along it).
    const Eigen::Vector3d approach = e == action::Embodiment::kArx5      ? Eigen::Vector3d(1, 0, 0)
                                     : e == action::Embodiment::kLocoman ? Eigen::Vector3d(0, 0, -1)
                                                                         : Eigen::Vector3d(0, 0, 1);
    for (const ArmDescription& arm : d->arms) {
      EXPECT_TRUE(arm.retarget.human_to_base.isApprox(c, 0.0)) << arm.name;
      const Eigen::Matrix3d& m = arm.retarget.ee_in_hand;
      EXPECT_NEAR(m.determinant(), 1.0, 1e-12) << arm.name;
      EXPECT_TRUE((m.transpose() * m).isApprox(Eigen::Matrix3d::Identity(), 1e-12)) << arm.name;
      // Fingers: +x of a right hand, -x of the mirrored left hand; the jaw axis (EE y) toward the thumb (+z).
      const Eigen::Vector3d fingers(arm.side == Side::kRight ? 1.0 : -1.0, 0.0, 0.0);
      EXPECT_TRUE((m * approach).isApprox(fingers, 1e-12)) << arm.name;
      EXPECT_TRUE((m * Eigen::Vector3d::UnitY()).isApprox(Eigen::Vector3d::UnitZ(), 1e-12)) << arm.name;
    }
  }
}

TEST(EmbodimentLoaderTest, HandPriorValues) {
  auto h = LoadHandDescription();
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_DOUBLE_EQ(h->finger_length_m[0], 0.0495);
  EXPECT_DOUBLE_EQ(h->finger_length_m[2], 0.0707);
  EXPECT_DOUBLE_EQ(h->hand_breadth_m, 0.080);
  EXPECT_DOUBLE_EQ(h->left_mirror(0, 0), -1.0);
  EXPECT_NEAR(h->pinch_direction.norm(), 1.0, 1e-12);
}

TEST(EmbodimentLoaderTest, ClearErrors) {
  auto r = ParseEmbodimentJson("{not json", "x.json");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("x.json"));

  r = ParseEmbodimentJson(R"({"embodiment": "ROBOTRON"})", "y.json");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("unknown embodiment"));

  // A PiPER with no arms, and an arm whose joint misses its limits.
  r = ParseEmbodimentJson(R"({"embodiment": "PIPER", "arms": []})", "z.json");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("needs 1 arm"));
  r = ParseEmbodimentJson(
      R"({"embodiment": "PIPER", "arms": [{"side": "right", "gripper": {"min": 0, "max": 1},
          "joints": [{"name": "j", "origin": {"xyz": [0,0,0]}, "axis": [0,0,1], "upper": 1}]}]})",
      "w.json");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("missing \"lower\""));
  r = ParseEmbodimentJson(
      R"({"embodiment": "PIPER", "arms": [{"side": "right", "gripper": {"min": 0, "max": 1},
          "joints": [{"name": "j", "origin": {}, "axis": [0,0,1], "lower": -1, "upper": 1}],
          "retarget": {"ee_in_hand": [[1,0,0],[0,1,0],[0,0,-1]]}}]})",
      "v.json");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not a proper rotation"));

  auto missing = LoadEmbodiment(action::Embodiment::kPiper, "/nonexistent/dir");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("MIVLA_EMBODIMENT_DIR"));
}

TEST(EmbodimentLoaderTest, EnvironmentOverridesTheDirectory) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "mivla_embodiment_env_test";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(DefaultEmbodimentDir() + "/arx5.json", dir / "piper.json",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(setenv("MIVLA_EMBODIMENT_DIR", dir.c_str(), 1), 0);
  EXPECT_EQ(DefaultEmbodimentDir(), dir.string());
  auto r = LoadEmbodiment(action::Embodiment::kPiper);  // the file in the override dir says ARX5
  unsetenv("MIVLA_EMBODIMENT_DIR");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("describes ARX5"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mivla::kinematics
