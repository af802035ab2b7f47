// File: gripper_latch_test.cc
#include "client/control/gripper_latch.h"

#include <cmath>
#include <limits>

#include "core/kinematics/embodiment_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::client {
namespace {

using ::testing::HasSubstr;

class GripperLatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<kinematics::EmbodimentDescription> piper = kinematics::LoadEmbodiment(action::Embodiment::kPiper);
    ASSERT_TRUE(piper.ok()) << piper.status();
    piper_ = *piper;
    absl::StatusOr<kinematics::EmbodimentDescription> aloha =
        kinematics::LoadEmbodiment(action::Embodiment::kAlohaAgilex);
    ASSERT_TRUE(aloha.ok()) << aloha.status();
    aloha_ = *aloha;
  }

  static RobotCommand Command(const kinematics::EmbodimentDescription& e, std::vector<double> grippers) {
    RobotCommand c;
    for (size_t i = 0; i < e.arms.size(); ++i) c.arms.push_back({e.arms[i].home, grippers[i]});
    return c;
  }
  // Runs the latch over a sequence of one-arm commands; returns what it sends and counts the commands
  // it sent closed in latched_ticks_.
  std::vector<double> Run(GripperLatch& latch, const kinematics::EmbodimentDescription& e,
                          const std::vector<double>& in) {
    std::vector<double> out;
    for (double g : in) {
      RobotCommand c = Command(e, {g});
      if (latch.Apply(&c)) ++latched_ticks_;
      out.push_back(c.arms[0].gripper);
    }
    return out;
  }

  kinematics::EmbodimentDescription piper_, aloha_;
  int latched_ticks_ = 0;
};

TEST_F(GripperLatchTest, WithoutThresholdsEveryValuePassesThrough) {
  absl::StatusOr<GripperLatch> latch = GripperLatch::Create(piper_, {});
  ASSERT_TRUE(latch.ok()) << latch.status();
  EXPECT_FALSE(latch->enabled());
  const std::vector<double> in = {0.07, 0.03, 0.001, 0.05};
  EXPECT_EQ(Run(*latch, piper_, in), in);
  EXPECT_EQ(latched_ticks_, 0);
}

TEST_F(GripperLatchTest, ClosesFullyBelowTheThresholdAndReleasesAboveIt) {
  const double closed = piper_.arms[0].gripper.min_m;
  absl::StatusOr<GripperLatch> latch = GripperLatch::Create(piper_, {0.05, std::nullopt});
  ASSERT_TRUE(latch.ok()) << latch.status();
  latch->Reset();
  EXPECT_EQ(Run(*latch, piper_, {0.069, 0.06, 0.049, 0.035, 0.045, 0.05, 0.0557, 0.07}),
            (std::vector<double>{0.069, 0.06, closed, closed, closed, closed, 0.0557, 0.07}));
  EXPECT_EQ(latched_ticks_, 4);
}

TEST_F(GripperLatchTest, HysteresisHoldsBetweenTheThresholds) {
  const double closed = piper_.arms[0].gripper.min_m;
  absl::StatusOr<GripperLatch> latch = GripperLatch::Create(piper_, {0.04, 0.06});
  ASSERT_TRUE(latch.ok()) << latch.status();
  latch->Reset();
  // Open, between the thresholds: passes through; below 0.04 it latches and stays latched up to 0.06.
  EXPECT_EQ(Run(*latch, piper_, {0.05, 0.039, 0.055, 0.059, 0.061, 0.05}),
            (std::vector<double>{0.05, closed, closed, closed, 0.061, 0.05}));
  // Reset unlatches.
  Run(*latch, piper_, {0.03});
  EXPECT_TRUE(latch->latched(0));
  latch->Reset();
  EXPECT_FALSE(latch->latched(0));
  EXPECT_EQ(Run(*latch, piper_, {0.05}), std::vector<double>{0.05});
}

TEST_F(GripperLatchTest, ArmsLatchIndependentlyAndNonFiniteValuesAreLeftAlone) {
  ASSERT_EQ(aloha_.arms.size(), 2u);
  const kinematics::GripperSpec& g = aloha_.arms[0].gripper;
  const double mid = 0.5 * (g.min_m + g.max_m);
  absl::StatusOr<GripperLatch> latch = GripperLatch::Create(aloha_, {mid, std::nullopt});
  ASSERT_TRUE(latch.ok()) << latch.status();
  latch->Reset();
  RobotCommand c = Command(aloha_, {g.min_m + 0.1 * (g.max_m - g.min_m), g.max_m});
  latch->Apply(&c);
  EXPECT_EQ(c.arms[0].gripper, aloha_.arms[0].gripper.min_m);
  EXPECT_EQ(c.arms[1].gripper, g.max_m);
  EXPECT_TRUE(latch->latched(0));
  EXPECT_FALSE(latch->latched(1));
  c = Command(aloha_, {std::numeric_limits<double>::quiet_NaN(), g.max_m});
  latch->Apply(&c);
  EXPECT_TRUE(std::isnan(c.arms[0].gripper)) << "a non-finite value reaches the safety layer, which holds";
  EXPECT_TRUE(latch->latched(0));
  c.arms.pop_back();  // a command of the wrong shape is left alone
  c.arms[0].gripper = g.min_m + 0.1 * (g.max_m - g.min_m);
  const double before = c.arms[0].gripper;
  latch->Apply(&c);
  EXPECT_EQ(c.arms[0].gripper, before);
}

TEST_F(GripperLatchTest, BadThresholdsNameTheOption) {
  const kinematics::GripperSpec& g = piper_.arms[0].gripper;
  absl::StatusOr<GripperLatch> l = GripperLatch::Create(piper_, {g.max_m + 0.01, std::nullopt});
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(l.status().message(), HasSubstr("gripper.close_below"));
  l = GripperLatch::Create(piper_, {g.min_m, std::nullopt});
  ASSERT_FALSE(l.ok());
  EXPECT_THAT(l.status().message(), HasSubstr("gripper.close_below"));
  l = GripperLatch::Create(piper_, {0.05, 0.04});
  ASSERT_FALSE(l.ok());
  EXPECT_THAT(l.status().message(), HasSubstr("gripper.release_above"));
  l = GripperLatch::Create(piper_, {std::nullopt, 0.04});
  ASSERT_FALSE(l.ok());
  EXPECT_THAT(l.status().message(), HasSubstr("without gripper.close_below"));
}

}  // namespace
}  // namespace mivla::client
