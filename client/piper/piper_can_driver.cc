// File: piper_can_driver.cc
// Sequences follow the vendor SDK (agilexrobotics/piper_sdk): EnablePiper sends 0x471 [7, 0x02] and
// checks each joint driver's enable bit (0x261-0x266 byte 5 bit 6) until all are set
// (interface/piper_interface_v2.py); the joint-control demo (demo/V2/piper_ctrl_joint.py) sends
// MotionCtrl_2 (CAN command mode, MOVE J) before every JointCtrl + GripperCtrl, which this driver
// does too, so an arm that dropped out of CAN mode is put back on the next tick.
#include "client/piper/piper_can_driver.h"

#include <chrono>
#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/util/log.h"

namespace mivla::client {
namespace {

using piper::CanFrame;

constexpr char kLog[] = "piper_can";

inline int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PiperCanDriver>> PiperCanDriver::Create(Options options) {
  const std::string where =
      options.bus_fd >= 0 ? absl::StrCat("descriptor ", options.bus_fd) : options.interface;
  if (options.speed_percent > 100 || !(options.control_period_s > 0.0) ||
      options.feedback_timeout_us <= 0 || options.start_timeout_us <= 0 ||
      options.send_timeout_us < 0 ||
      !(options.gripper_effort_nm >= 0.0 && options.gripper_effort_nm <= 5.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("PiPER on ", where,
                     ": Options out of range (speed_percent <= 100, control_period_s > 0, "
                     "timeouts > 0, gripper_effort_nm in [0, 5])"));
  }
  absl::StatusOr<kinematics::EmbodimentDescription> robot =
      kinematics::LoadEmbodiment(action::Embodiment::kPiper, options.embodiment_dir);
  if (!robot.ok()) return robot.status();
  if (robot->arms.size() != 1 || robot->arms[0].chain.num_joints() != piper::kPiperJoints) {
    return absl::FailedPreconditionError(
        "PiPER description: expected one arm with 6 joints "
        "(core/kinematics/embodiments/piper.json)");
  }
  absl::StatusOr<std::unique_ptr<CanBus>> bus =
      options.bus_fd >= 0 ? CanBus::Adopt(options.bus_fd, where) : CanBus::Open(options.interface);
  if (!bus.ok()) return bus.status();
  return std::unique_ptr<PiperCanDriver>(
      new PiperCanDriver(std::move(options), *std::move(robot), *std::move(bus)));
}

PiperCanDriver::PiperCanDriver(Options options, kinematics::EmbodimentDescription robot,
                               std::unique_ptr<CanBus> bus)
    : options_(std::move(options)), robot_(std::move(robot)), bus_(std::move(bus)) {
  receiver_ = std::thread([this] { ReceiveLoop(); });
}

PiperCanDriver::~PiperCanDriver() {
  if (started_) {
    if (absl::Status s = Stop(); !s.ok()) LogWarning(kLog, s.ToString());
  }
  stop_receiver_ = true;
  receiver_.join();
}

void PiperCanDriver::ReceiveLoop() {
  while (!stop_receiver_) {
    absl::StatusOr<CanFrame> f = bus_->Receive(absl::Milliseconds(20));
    if (f.ok()) {
      Handle(*f);
    } else if (!absl::IsDeadlineExceeded(f.status())) {
      {
        absl::MutexLock lock(&mu_);
        bus_error_ = std::string(f.status().message());
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
}

void PiperCanDriver::Handle(const CanFrame& f) {
  const int64_t now = NowUs();
  absl::MutexLock lock(&mu_);
  ++feedback_.frames_received;
  bus_error_.clear();
  if (f.id >= piper::kJointFeedback12Id && f.id <= piper::kJointFeedback12Id + 2) {
    if (absl::StatusOr<piper::JointPair> p = piper::DecodeJointPair(f); p.ok()) {
      joints_[p->first_joint] = p->rad[0];
      joints_[p->first_joint + 1] = p->rad[1];
      joint_time_us_[p->first_joint / 2] = now;
      return;
    }
  } else if (f.id == piper::kGripperFeedbackId) {
    if (absl::StatusOr<piper::GripperFeedback> g = piper::DecodeGripperFeedback(f); g.ok()) {
      feedback_.gripper = *g;
      gripper_time_us_ = now;
      return;
    }
  } else if (f.id == piper::kStatusFeedbackId) {
    if (absl::StatusOr<piper::ArmStatus> s = piper::DecodeStatus(f); s.ok()) {
      feedback_.status = *s;
      feedback_.has_status = true;
      status_time_us_ = now;
      return;
    }
  } else if (f.id >= piper::kEndPoseFeedback1Id && f.id <= piper::kEndPoseFeedback1Id + 2) {
    if (piper::DecodeEndPoseFeedback(f, &feedback_.end_pose).ok()) return;
  } else if (f.id >= piper::kLowSpeedFeedback1Id && f.id <= piper::kLowSpeedFeedback1Id + 5) {
    if (absl::StatusOr<piper::DriverLowSpeed> d = piper::DecodeDriverLowSpeed(f); d.ok()) {
      feedback_.driver_enabled[d->joint] = d->enabled();
      return;
    }
  }
  ++feedback_.frames_ignored;  // other ids (MIT, high-speed driver info, ...) or malformed frames
}

PiperCanDriver::Feedback PiperCanDriver::latest_feedback() const {
  absl::MutexLock lock(&mu_);
  return feedback_;
}

absl::Status PiperCanDriver::SendFrame(const CanFrame& f) {
  return bus_->Send(f, absl::Microseconds(options_.send_timeout_us));
}

absl::Status PiperCanDriver::SendTargets(const kinematics::JointVector& q, double gripper,
                                         uint8_t gripper_code) {
  piper::MotionCtrl2 mode;
  mode.speed_percent = options_.speed_percent;
  absl::StatusOr<CanFrame> m = piper::EncodeMotionCtrl2(mode);
  if (!m.ok()) return m.status();
  absl::StatusOr<std::array<CanFrame, 3>> joints = piper::EncodeJointCtrl(q);
  if (!joints.ok()) return joints.status();
  if (absl::Status s = SendFrame(*m); !s.ok()) return s;
  for (const CanFrame& f : *joints) {
    if (absl::Status s = SendFrame(f); !s.ok()) return s;
  }
  if (!options_.has_gripper) return absl::OkStatus();
  absl::StatusOr<CanFrame> g =
      piper::EncodeGripperCtrl({gripper, options_.gripper_effort_nm, gripper_code, 0x00});
  if (!g.ok()) return g.status();
  return SendFrame(*g);
}

std::string PiperCanDriver::NotReady(int64_t now_us) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> missing;
  const int64_t stale = now_us - options_.feedback_timeout_us;
  for (int k = 0; k < 3; ++k) {
    if (joint_time_us_[k] < stale) {
      missing.push_back(absl::StrFormat("joint feedback 0x%03X", piper::kJointFeedback12Id + k));
    }
  }
  if (options_.has_gripper && gripper_time_us_ < stale) missing.push_back("gripper feedback 0x2A8");
  if (status_time_us_ < stale) {
    missing.push_back("status feedback 0x2A1");
  } else {
    const piper::ArmStatus& s = feedback_.status;
    if (s.ctrl_mode != static_cast<uint8_t>(piper::CtrlMode::kCanCommand)) {
      missing.push_back(absl::StrFormat("ctrl_mode 0x%02X (want 0x01, CAN command)", s.ctrl_mode));
    }
    if (s.mode_feed != static_cast<uint8_t>(piper::MoveMode::kJ)) {
      missing.push_back(absl::StrFormat("move mode 0x%02X (want 0x01, MOVE J)", s.mode_feed));
    }
  }
  int enabled = 0;
  for (bool e : feedback_.driver_enabled) enabled += e ? 1 : 0;
  if (enabled < piper::kPiperJoints) {
    missing.push_back(absl::StrCat("joint drivers enabled ", enabled, "/6 (0x261-0x266)"));
  }
  return absl::StrJoin(missing, ", ");
}

absl::Status PiperCanDriver::Start() {
  if (started_) return absl::OkStatus();
  const int64_t deadline = NowUs() + options_.start_timeout_us;
  absl::StatusOr<CanFrame> enable = piper::EncodeMotorEnable({piper::kAllMotors, true});
  piper::MotionCtrl2 mode;
  mode.speed_percent = options_.speed_percent;
  absl::StatusOr<CanFrame> motion = piper::EncodeMotionCtrl2(mode);
  if (!enable.ok()) return enable.status();
  if (!motion.ok()) return motion.status();
  std::string missing;
  while (true) {
    if (absl::Status s = SendFrame(*enable); !s.ok()) return s;
    if (absl::Status s = SendFrame(*motion); !s.ok()) return s;
    if (options_.has_gripper) {
      // Enable the gripper where it is (an opening of 0 would close it).
      piper::GripperFeedback g;
      bool have = false;
      {
        absl::MutexLock lock(&mu_);
        have = gripper_time_us_ >= 0;
        g = feedback_.gripper;
      }
      if (have) {
        absl::StatusOr<CanFrame> f = piper::EncodeGripperCtrl(
            {g.opening_m, options_.gripper_effort_nm, piper::kGripperEnable, 0x00});
        if (!f.ok()) return f.status();
        if (absl::Status s = SendFrame(*f); !s.ok()) return s;
      }
    }
    absl::SleepFor(absl::Milliseconds(10));
    const int64_t now = NowUs();
    missing = NotReady(now);
    if (missing.empty()) break;
    if (now > deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("PiPER on %s: not ready after %.1f s: %s", bus_->name(),
                          options_.start_timeout_us * 1e-6, missing));
    }
  }
  const Feedback fb = latest_feedback();
  if (fb.status.arm_status != 0) {
    LogWarning(kLog, absl::StrCat("PiPER on ", bus_->name(), " reports arm status ",
                                  piper::ArmStatusName(fb.status.arm_status)));
  }
  LogInfo(kLog, absl::StrCat("PiPER on ", bus_->name(), ": enabled, CAN command mode, MOVE J"));
  started_ = true;
  last_command_.reset();
  return absl::OkStatus();
}

absl::StatusOr<RobotReading> PiperCanDriver::Read(bool with_images) {
  const int64_t now = NowUs();
  RobotReading r;
  r.arms.resize(1);
  ArmReading& arm = r.arms[0];
  arm.joints = kinematics::JointVector(piper::kPiperJoints);
  {
    absl::MutexLock lock(&mu_);
    const std::string bus_note = bus_error_.empty() ? "" : absl::StrCat(" (bus: ", bus_error_, ")");
    int64_t oldest = joint_time_us_[0];
    for (int64_t t : joint_time_us_) oldest = std::min(oldest, t);
    if (oldest < 0) {
      return absl::UnavailableError(absl::StrCat(
          "PiPER on ", bus_->name(), ": no joint feedback (0x2A5-0x2A7) yet", bus_note));
    }
    if (now - oldest > options_.feedback_timeout_us) {
      return absl::UnavailableError(absl::StrFormat(
          "PiPER on %s: no joint feedback for %.1f ms (timeout %.1f ms)%s", bus_->name(),
          (now - oldest) * 1e-3, options_.feedback_timeout_us * 1e-3, bus_note));
    }
    if (options_.has_gripper &&
        (gripper_time_us_ < 0 || now - gripper_time_us_ > options_.feedback_timeout_us)) {
      return absl::UnavailableError(absl::StrCat("PiPER on ", bus_->name(),
                                                 ": no recent gripper feedback (0x2A8)", bus_note));
    }
    for (int j = 0; j < piper::kPiperJoints; ++j) arm.joints[j] = joints_[j];
    arm.gripper = options_.has_gripper ? feedback_.gripper.opening_m : 0.0;
    r.time_us = oldest;
  }
  const kinematics::KinematicChain& chain = robot_.arms[0].chain;
  arm.ee_in_base = chain.base().inverse() * chain.ForwardUnchecked(arm.joints);
  return r;
}

absl::Status PiperCanDriver::Command(const RobotCommand& command) {
  if (!started_) {
    return absl::FailedPreconditionError(
        absl::StrCat("PiPER on ", bus_->name(), ": Command before Start"));
  }
  if (command.arms.size() != 1 || command.arms[0].joints.size() != piper::kPiperJoints) {
    return absl::InvalidArgumentError(absl::StrCat("PiPER on ", bus_->name(), ": command has ",
                                                   command.arms.size(),
                                                   " arms; expected 1 arm with 6 joints"));
  }
  const ArmTarget& t = command.arms[0];
  if (!t.joints.allFinite() || !std::isfinite(t.gripper)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PiPER on ", bus_->name(), ": command has a non-finite joint or gripper value"));
  }
  last_command_ = t;  // what Stop holds, even when a frame fails below
  return SendTargets(t.joints, t.gripper, piper::kGripperEnable);
}

absl::Status PiperCanDriver::Stop() {
  if (!started_) return absl::OkStatus();
  started_ = false;
  absl::Status first;
  std::optional<ArmTarget> hold = last_command_;
  last_command_.reset();
  if (!hold.has_value()) {
    absl::StatusOr<RobotReading> r = Read(false);
    if (r.ok()) {
      hold = ArmTarget{r->arms[0].joints, r->arms[0].gripper};
    } else {
      first = r.status();
    }
  }
  if (hold.has_value()) {
    for (int i = 0; i < options_.stop_hold_frames; ++i) {
      absl::Status s = SendTargets(hold->joints, hold->gripper, piper::kGripperEnable);
      if (!s.ok() && first.ok()) first = s;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  if (options_.disable_on_stop) {
    absl::StatusOr<CanFrame> off = piper::EncodeMotorEnable({piper::kAllMotors, false});
    absl::Status s = off.ok() ? SendFrame(*off) : off.status();
    if (!s.ok() && first.ok()) first = s;
  }
  LogInfo(kLog, absl::StrCat("PiPER on ", bus_->name(), ": stopped",
                             options_.disable_on_stop ? " and disabled" : ""));
  return first;
}

}  // namespace mivla::client
