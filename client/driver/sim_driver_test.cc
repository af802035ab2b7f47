// File: sim_driver_test.cc
#include "client/driver/sim_driver.h"

#include <chrono>
#include <thread>

#include "gtest/gtest.h"

namespace mivla::client {
namespace {

using action::Embodiment;

SimDriverOptions Opts(Embodiment e, const std::string& task) {
  SimDriverOptions o;
  o.embodiment = e;
  o.task = task;
  o.seed = 3;
  return o;
}

TEST(SimDriverTest, EveryRobotOfTheSuiteLoadsWithItsCameras) {
  const std::vector<std::pair<Embodiment, std::string>> cases = {{Embodiment::kPiper, "press_bell"},
                                                                  {Embodiment::kArx5, "stack_blocks"},
                                                                  {Embodiment::kLocoman, "lift_pot"},
                                                                  {Embodiment::kAlohaAgilex, "handover_block"}};
  for (const auto& [e, task] : cases) {
    SimDriverOptions o = Opts(e, task);
    o.render = false;
    absl::StatusOr<std::unique_ptr<SimDriver>> d = SimDriver::Create(o);
    ASSERT_TRUE(d.ok()) << d.status();
    const int arms = action::NumArms(e);
    EXPECT_EQ(static_cast<int>((*d)->embodiment().arms.size()), arms);
    EXPECT_EQ((*d)->embodiment().arms[0].side, kinematics::Side::kRight);
    absl::StatusOr<RobotReading> r = (*d)->Read(false);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(static_cast<int>(r->arms.size()), arms);
    EXPECT_FALSE((*d)->instruction().empty());
    EXPECT_GT((*d)->step_limit(), 100);
  }
}

TEST(SimDriverTest, BadOptionsAreRefused) {
  SimDriverOptions o = Opts(Embodiment::kPiper, "no_such_task");
  EXPECT_NE(SimDriver::Create(o).status().message().find("no_such_task"), std::string::npos);
  o = Opts(Embodiment::kPiper, "lift_pot");  // a two-arm task
  EXPECT_EQ(SimDriver::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o = Opts(Embodiment::kPiper, "press_bell");
  o.control_period_s = 0.015;
  EXPECT_NE(SimDriver::Create(o).status().message().find("2 ms"), std::string::npos);
  o = Opts(Embodiment::kHuman, "press_bell");
  EXPECT_EQ(SimDriver::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SimDriverTest, CommandsMoveTheArmAndTimeAdvancesByThePeriod) {
  SimDriverOptions o = Opts(Embodiment::kPiper, "press_bell");
  o.render = false;
  o.control_period_s = 0.02;  // 50 Hz
  std::unique_ptr<SimDriver> d = *SimDriver::Create(o);
  ASSERT_TRUE(d->simulated_clock());
  RobotReading r0 = *d->Read(false);
  RobotCommand c;
  ArmTarget t;
  t.joints = r0.arms[0].joints;
  t.joints[0] += 0.2;
  t.gripper = d->embodiment().arms[0].gripper.max_m;
  c.arms.push_back(t);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(d->Command(c).ok());
  RobotReading r1 = *d->Read(false);
  EXPECT_EQ(r1.time_us - r0.time_us, 50 * 20000);
  EXPECT_NEAR(r1.arms[0].joints[0], r0.arms[0].joints[0] + 0.2, 0.02);
  EXPECT_EQ(d->outcome().steps, 50);
  EXPECT_FALSE(d->outcome().success);
  EXPECT_EQ(d->outcome().subtasks.size(), 2u);  // reach over, press

  c.arms[0].joints[1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(d->Command(c).code(), absl::StatusCode::kInvalidArgument);
  c.arms.push_back(t);
  EXPECT_EQ(d->Command(c).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SimDriverTest, ExpertTakesOverFromWhereTheCommandsLeftTheArm) {
  SimDriverOptions o = Opts(Embodiment::kPiper, "place_block_basket");
  o.seed = 7;
  o.render = false;
  absl::StatusOr<std::unique_ptr<SimDriver>> d = SimDriver::Create(o);
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<RobotReading> start = (*d)->Read(false);
  ASSERT_TRUE(start.ok());
  // Swing the arm aside with the gripper shut, as a policy gone astray might.
  RobotCommand c;
  c.arms.push_back({start->arms[0].joints, (*d)->embodiment().arms[0].gripper.min_m});
  c.arms[0].joints[0] += 0.3;
  for (int k = 0; k < 25; ++k) ASSERT_TRUE((*d)->Command(c).ok());
  absl::StatusOr<RobotReading> moved = (*d)->Read(false);
  ASSERT_TRUE(moved.ok());
  const double moved_s = (*d)->NowUs() * 1e-6;

  sim::EpisodeOptions record;
  record.render = false;
  absl::StatusOr<sim::Episode> ep = (*d)->RunExpertFromHere(record, nullptr);
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_TRUE(ep->success);
  EXPECT_EQ(ep->task, "place_block_basket");
  EXPECT_EQ(ep->seed, 7u);
  EXPECT_EQ(ep->instruction, (*d)->instruction());
  ASSERT_FALSE(ep->steps.empty());
  EXPECT_NEAR(ep->steps[0].time, moved_s, 1e-6);  // the recording starts at the takeover
  for (int j = 0; j < moved->arms[0].joints.size(); ++j) {
    EXPECT_DOUBLE_EQ(ep->steps[0].arms[0].joints[j], moved->arms[0].joints[j]);
  }
  EXPECT_EQ((*d)->outcome().steps, 25);  // the expert's steps are not the driver's

  record.render = true;  // without a renderer
  EXPECT_EQ((*d)->RunExpertFromHere(record, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SimDriverTest, RendersTheRigCamerasAtTheCameraRate) {
  SimDriverOptions o = Opts(Embodiment::kPiper, "press_bell");
  o.camera_period_s = 0.08;  // every second control step
  std::unique_ptr<SimDriver> d = *SimDriver::Create(o);
  const std::vector<CameraLayout> cams = d->cameras();
  ASSERT_EQ(cams.size(), 2u);
  EXPECT_EQ(cams[0].name, "head_camera");
  EXPECT_EQ(cams[1].name, "right_camera");
  RobotReading r = *d->Read(true);
  ASSERT_EQ(r.images.size(), 2u);
  EXPECT_EQ(r.images[0].rgb.size(), static_cast<size_t>(cams[0].width * cams[0].height * 3));
  RobotCommand hold{{{r.arms[0].joints, r.arms[0].gripper}}};
  ASSERT_TRUE(d->Command(hold).ok());
  EXPECT_EQ(d->Read(true)->images[0].capture_time_us, r.images[0].capture_time_us);  // 40 ms: not yet
  ASSERT_TRUE(d->Command(hold).ok());
  EXPECT_EQ(d->Read(true)->images[0].capture_time_us, r.images[0].capture_time_us + 80000);
}

TEST(SimDriverTest, RealTimeCamerasRenderOnTheirOwnThread) {
  SimDriverOptions o = Opts(Embodiment::kPiper, "press_bell");
  o.real_time = true;
  std::unique_ptr<SimDriver> d = *SimDriver::Create(o);
  EXPECT_FALSE(d->simulated_clock());
  RobotReading r = *d->Read(true);  // waits for the first frames
  ASSERT_EQ(r.images.size(), 2u);
  RobotCommand hold{{{r.arms[0].joints, r.arms[0].gripper}}};
  int64_t first = r.images[0].capture_time_us;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(d->Command(hold).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  EXPECT_GT(d->Read(true)->images[0].capture_time_us, first);
  EXPECT_TRUE(d->Stop().ok());
}

}  // namespace
}  // namespace mivla::client
