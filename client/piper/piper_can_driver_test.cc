// File: piper_can_driver_test.cc
// The driver against a simulated PiPER on the other end of the bus: a vcan interface when the
// kernel offers one (MIVLA_TEST_VCAN names it, default vcan0; create it with `ip link add dev vcan0
// type vcan && ip link set up vcan0`), otherwise a socketpair(AF_UNIX, SOCK_SEQPACKET) carrying
// struct can_frame records.
#include "client/piper/piper_can_driver.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/piper/can_bus.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::client {
namespace {

using piper::CanFrame;
using ::testing::HasSubstr;

// The arm end of the bus: answers enable/mode/joint/gripper commands and streams feedback every
// 5 ms, like the PiPER's 200 Hz feedback. Joints move toward their targets at up to 3 rad/s once
// the arm is enabled, in CAN command mode and MOVE J.
class FakePiper {
 public:
  explicit FakePiper(std::unique_ptr<CanBus> bus) : bus_(std::move(bus)) {
    joints_ = {0.0, 1.2, -1.0, 0.0, 0.8, 0.0};
    targets_ = joints_;
    thread_ = std::thread([this] { Run(); });
  }
  ~FakePiper() {
    done_ = true;
    thread_.join();
  }
  void set_silent(bool s) { silent_ = s; }
  void set_ignore_mode(bool s) { ignore_mode_ = s; }
  std::vector<CanFrame> received() {
    absl::MutexLock l(&mu_);
    return received_;
  }
  std::array<double, 6> joints() {
    absl::MutexLock l(&mu_);
    return joints_;
  }
  double gripper() {
    absl::MutexLock l(&mu_);
    return gripper_;
  }
  bool enabled() {
    absl::MutexLock l(&mu_);
    return enabled_;
  }

 private:
  void Run() {
    absl::Time next = absl::Now();
    while (!done_) {
      while (true) {
        absl::StatusOr<CanFrame> f = bus_->Receive(absl::ZeroDuration());
        if (!f.ok()) break;
        Apply(*f);
      }
      if (absl::Now() >= next) {
        next += absl::Milliseconds(5);
        Step(0.005);
        if (!silent_) Publish();
      }
      absl::SleepFor(absl::Microseconds(500));
    }
  }
  void Apply(const CanFrame& f) {
    absl::MutexLock l(&mu_);
    received_.push_back(f);
    if (f.id == piper::kMotorEnableId) {
      enabled_ = piper::DecodeMotorEnable(f)->enable;
    } else if (f.id == piper::kMotionCtrl2Id && !ignore_mode_) {
      piper::MotionCtrl2 m = *piper::DecodeMotionCtrl2(f);
      ctrl_mode_ = static_cast<uint8_t>(m.ctrl_mode);
      move_mode_ = static_cast<uint8_t>(m.move_mode);
    } else if (f.id >= piper::kJointCtrl12Id && f.id <= piper::kJointCtrl12Id + 2) {
      piper::JointPair p = *piper::DecodeJointPair(f);
      targets_[p.first_joint] = p.rad[0];
      targets_[p.first_joint + 1] = p.rad[1];
    } else if (f.id == piper::kGripperCtrlId) {
      piper::GripperCtrl g = *piper::DecodeGripperCtrl(f);
      gripper_enabled_ = g.code == piper::kGripperEnable;
      if (gripper_enabled_) gripper_target_ = g.opening_m;
    }
  }
  void Step(double dt) {
    absl::MutexLock l(&mu_);
    if (!enabled_ || ctrl_mode_ != 0x01 || move_mode_ != 0x01) return;
    for (int j = 0; j < 6; ++j) {
      const double d = std::clamp(targets_[j] - joints_[j], -3.0 * dt, 3.0 * dt);
      joints_[j] += d;
    }
    if (gripper_enabled_) gripper_ += std::clamp(gripper_target_ - gripper_, -0.1 * dt, 0.1 * dt);
  }
  void Publish() {
    std::vector<CanFrame> out;
    {
      absl::MutexLock l(&mu_);
      piper::ArmStatus s;
      s.ctrl_mode = ctrl_mode_;
      s.mode_feed = move_mode_;
      out.push_back(*piper::EncodeStatus(s));
      kinematics::JointVector q(6);
      for (int j = 0; j < 6; ++j) q[j] = joints_[j];
      absl::StatusOr<std::array<CanFrame, 3>> joints = piper::EncodeJointFeedback(q);
      if (joints.ok()) out.insert(out.end(), joints->begin(), joints->end());
      out.push_back(*piper::EncodeGripperFeedback(
          {gripper_, 0.2, static_cast<uint8_t>(gripper_enabled_ ? 0x40 : 0x00)}));
      for (int j = 0; j < 6; ++j) {
        piper::DriverLowSpeed d;
        d.joint = j;
        d.status = enabled_ ? 0x40 : 0x00;
        out.push_back(*piper::EncodeDriverLowSpeed(d));
      }
      absl::StatusOr<std::array<CanFrame, 3>> pose =
          piper::EncodeEndPoseFeedback({0.05, 0, 0.2, 0, 0, 0});
      if (pose.ok()) out.insert(out.end(), pose->begin(), pose->end());
    }
    for (const CanFrame& f : out) (void)bus_->Send(f, absl::Milliseconds(5));
  }

  std::unique_ptr<CanBus> bus_;
  std::thread thread_;
  std::atomic<bool> done_{false}, silent_{false}, ignore_mode_{false};
  absl::Mutex mu_;
  std::vector<CanFrame> received_;
  std::array<double, 6> joints_, targets_;
  double gripper_ = 0.03, gripper_target_ = 0.03;
  bool enabled_ = false, gripper_enabled_ = false;
  uint8_t ctrl_mode_ = 0x00, move_mode_ = 0x00;
};

enum class Bus { kSocketPair, kVcan };
void PrintTo(Bus b, std::ostream* os) { *os << (b == Bus::kVcan ? "vcan" : "socketpair"); }

class PiperCanDriverTest : public ::testing::TestWithParam<Bus> {
 protected:
  // Creates the fake arm and the driver on the chosen bus; skips when vcan is unavailable.
  void Connect(PiperCanDriver::Options o = {}) {
    if (GetParam() == Bus::kVcan) {
      const char* env = std::getenv("MIVLA_TEST_VCAN");
      const std::string ifname = env != nullptr && *env != '\0' ? env : "vcan0";
      absl::StatusOr<std::unique_ptr<CanBus>> arm_bus = CanBus::Open(ifname);
      if (!arm_bus.ok()) {
        GTEST_SKIP() << "no vcan interface here (" << arm_bus.status().message()
                     << "); the socketpair variant covers the driver";
      }
      arm_ = std::make_unique<FakePiper>(*std::move(arm_bus));
      o.interface = ifname;
    } else {
      int fds[2];
      ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
      arm_ = std::make_unique<FakePiper>(*CanBus::Adopt(fds[1], "fake-arm"));
      o.bus_fd = fds[0];
    }
    absl::StatusOr<std::unique_ptr<PiperCanDriver>> d = PiperCanDriver::Create(o);
    ASSERT_TRUE(d.ok()) << d.status();
    driver_ = *std::move(d);
  }
  void TearDown() override {
    driver_.reset();  // before the arm: Stop() still reaches it
    arm_.reset();
  }
  // Polls `done` for up to `timeout`.
  static bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return done();
  }

  std::unique_ptr<FakePiper> arm_;
  std::unique_ptr<PiperCanDriver> driver_;
};

TEST_P(PiperCanDriverTest, StartEnablesAndSelectsJointMode) {
  Connect();
  if (IsSkipped()) return;
  EXPECT_EQ(driver_->embodiment().name, "PIPER");
  EXPECT_TRUE(driver_->cameras().empty());
  ASSERT_TRUE(driver_->Start().ok());
  EXPECT_TRUE(driver_->Start().ok());  // idempotent
  EXPECT_TRUE(arm_->enabled());
  bool saw_enable = false, saw_mode = false;
  for (const CanFrame& f : arm_->received()) {
    if (f.id == 0x471 && f.data[0] == 0x07 && f.data[1] == 0x02) saw_enable = true;
    if (f.id == 0x151 && f.data[0] == 0x01 && f.data[1] == 0x01) saw_mode = true;
  }
  EXPECT_TRUE(saw_enable);
  EXPECT_TRUE(saw_mode);
  absl::StatusOr<RobotReading> r = driver_->Read(true);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->arms.size(), 1u);
  EXPECT_NEAR(r->arms[0].joints[1], 1.2, 1e-5);  // 0.001 degree resolution
  EXPECT_NEAR(r->arms[0].joints[2], -1.0, 1e-5);
  EXPECT_NEAR(r->arms[0].gripper, 0.03, 1e-6);
  EXPECT_TRUE(r->images.empty());
  const Eigen::Vector3d fk =
      driver_->embodiment().arms[0].chain.ForwardUnchecked(r->arms[0].joints).translation();
  EXPECT_TRUE(r->arms[0].ee_in_base.translation().isApprox(fk, 1e-12));
  PiperCanDriver::Feedback fb = driver_->latest_feedback();
  EXPECT_TRUE(fb.has_status);
  EXPECT_NEAR(fb.end_pose.z, 0.2, 1e-9);
  EXPECT_GT(fb.frames_received, 10);
}

TEST_P(PiperCanDriverTest, CommandsMoveTheArm) {
  Connect();
  if (IsSkipped()) return;
  RobotCommand cmd;
  cmd.arms.resize(1);
  cmd.arms[0].joints = kinematics::JointVector(6);
  cmd.arms[0].joints << 0.1, 1.0, -0.8, 0.2, 0.6, -0.3;
  cmd.arms[0].gripper = 0.05;
  EXPECT_EQ(driver_->Command(cmd).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(driver_->Start().ok());
  ASSERT_TRUE(driver_->Command(cmd).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<RobotReading> r = driver_->Read(false);
        return r.ok() && (r->arms[0].joints - cmd.arms[0].joints).cwiseAbs().maxCoeff() < 1e-4 &&
               std::abs(r->arms[0].gripper - 0.05) < 1e-5;
      },
      absl::Seconds(3)));
  // The arm decoded exactly the commanded values (to the 0.001 degree / 0.001 mm resolution).
  std::array<double, 6> q = arm_->joints();
  for (int j = 0; j < 6; ++j) EXPECT_NEAR(q[j], cmd.arms[0].joints[j], 1e-5) << j;
  EXPECT_NEAR(arm_->gripper(), 0.05, 1e-6);
  // Bad commands are refused without sending.
  RobotCommand bad = cmd;
  bad.arms[0].joints[4] = std::nan("");
  EXPECT_EQ(driver_->Command(bad).code(), absl::StatusCode::kInvalidArgument);
  bad.arms.push_back(cmd.arms[0]);
  EXPECT_THAT(std::string(driver_->Command(bad).message()), HasSubstr("2 arms"));
}

TEST_P(PiperCanDriverTest, ReadFailsWhenFeedbackStops) {
  PiperCanDriver::Options o;
  o.feedback_timeout_us = 50000;
  Connect(o);
  if (IsSkipped()) return;
  ASSERT_TRUE(driver_->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return driver_->Read(false).ok(); }, absl::Seconds(1)));
  arm_->set_silent(true);
  absl::SleepFor(absl::Milliseconds(120));
  absl::StatusOr<RobotReading> r = driver_->Read(false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no joint feedback for"));
  arm_->set_silent(false);
  EXPECT_TRUE(WaitFor([&] { return driver_->Read(false).ok(); }, absl::Seconds(1)));
}

TEST_P(PiperCanDriverTest, StopHoldsThenDisables) {
  Connect();
  if (IsSkipped()) return;
  ASSERT_TRUE(driver_->Start().ok());
  absl::StatusOr<RobotReading> before = driver_->Read(false);
  ASSERT_TRUE(before.ok());
  const size_t sent_before = arm_->received().size();
  ASSERT_TRUE(driver_->Stop().ok());
  EXPECT_TRUE(driver_->Stop().ok());  // idempotent
  ASSERT_TRUE(WaitFor([&] { return !arm_->enabled(); }, absl::Seconds(1)));
  std::vector<CanFrame> frames = arm_->received();
  ASSERT_GT(frames.size(), sent_before);
  EXPECT_EQ(frames.back().id, 0x471u);
  EXPECT_EQ(frames.back().data[1], 0x01);  // disable
  int holds = 0;
  for (size_t i = sent_before; i < frames.size(); ++i) {
    if (frames[i].id != piper::kJointCtrl12Id + 1) continue;
    piper::JointPair p = *piper::DecodeJointPair(frames[i]);
    EXPECT_NEAR(p.rad[0], before->arms[0].joints[2], 1e-4);  // the measured pose
    ++holds;
  }
  EXPECT_EQ(holds, 5);
}

TEST_P(PiperCanDriverTest, StopHoldsTheLastCommandNotTheMeasuredPose) {
  // The arm is still on its way to the last target (and a latched grasp is closed on an object the
  // measured opening shows): Stop holds the command, so it neither pulls the arm back nor lets go.
  Connect();
  if (IsSkipped()) return;
  ASSERT_TRUE(driver_->Start().ok());
  absl::StatusOr<RobotReading> before = driver_->Read(false);
  ASSERT_TRUE(before.ok());
  RobotCommand cmd;
  cmd.arms.resize(1);
  cmd.arms[0].joints = before->arms[0].joints;
  cmd.arms[0].joints[2] += 0.5;  // 0.17 s away at the fake arm's 3 rad/s
  cmd.arms[0].gripper = 0.0;     // closed
  const size_t sent_before = arm_->received().size();
  ASSERT_TRUE(driver_->Command(cmd).ok());
  ASSERT_TRUE(driver_->Stop().ok());
  int holds = 0, grips = 0;
  const std::vector<CanFrame> frames = arm_->received();
  for (size_t i = sent_before; i < frames.size(); ++i) {
    if (frames[i].id == piper::kJointCtrl12Id + 1) {
      EXPECT_NEAR(piper::DecodeJointPair(frames[i])->rad[0], cmd.arms[0].joints[2], 1e-4) << i;
      ++holds;
    } else if (frames[i].id == piper::kGripperCtrlId) {
      EXPECT_NEAR(piper::DecodeGripperCtrl(frames[i])->opening_m, 0.0, 1e-6) << i;
      ++grips;
    }
  }
  EXPECT_EQ(holds, 1 + 5);  // the command, then Stop's five holds
  EXPECT_EQ(grips, 1 + 5);
}

TEST_P(PiperCanDriverTest, StartNamesWhatIsMissing) {
  PiperCanDriver::Options o;
  o.start_timeout_us = 200000;
  Connect(o);
  if (IsSkipped()) return;
  arm_->set_ignore_mode(true);  // stays in standby
  absl::Status s = driver_->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(s.message()), HasSubstr("ctrl_mode 0x00 (want 0x01, CAN command)"));
}

INSTANTIATE_TEST_SUITE_P(Buses, PiperCanDriverTest, ::testing::Values(Bus::kSocketPair, Bus::kVcan),
                         [](const ::testing::TestParamInfo<Bus>& i) {
                           return i.param == Bus::kVcan ? "Vcan" : "SocketPair";
                         });

TEST(PiperCanDriverCreateTest, MissingInterfaceIsNamed) {
  PiperCanDriver::Options o;
  o.interface = "nosuchcan7";
  absl::StatusOr<std::unique_ptr<PiperCanDriver>> d = PiperCanDriver::Create(o);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("nosuchcan7"));
  o.speed_percent = 120;
  EXPECT_THAT(std::string(PiperCanDriver::Create(o).status().message()),
              HasSubstr("speed_percent"));
}

}  // namespace
}  // namespace mivla::client
