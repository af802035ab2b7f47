// File: piper_can_driver.h
// RobotDriver for the AgileX PiPER over its documented CAN protocol (piper_can_frames.h), on a
// SocketCAN interface or an adopted descriptor (tests). One arm, six joints and a gripper; no
// cameras (cameras() is empty).
//
//   PiperCanDriver::Options o;
//   o.interface = "can0";
//   ASSIGN_OR_RETURN(std::unique_ptr<PiperCanDriver> arm, PiperCanDriver::Create(o));
//   RETURN_IF_ERROR(arm->Start());     // enable motors, CAN command mode, MOVE J
//   ASSIGN_OR_RETURN(RobotReading r, arm->Read(false));
//   RETURN_IF_ERROR(arm->Command(cmd));  // MotionCtrl_2 + JointCtrl x3 + GripperCtrl
//   RETURN_IF_ERROR(arm->Stop());      // hold the last command (or the measured pose), then disable
//
// A receive thread keeps the newest joint (0x2A5-0x2A7), gripper (0x2A8), status (0x2A1), end-pose
// and driver (0x261-0x266) feedback. Read fails with Unavailable when the joint (or gripper)
// feedback is older than feedback_timeout_us. Start resends enable and mode frames until the arm
// reports CAN command mode, MOVE J and all six joint drivers enabled, or fails with
// DeadlineExceeded naming what is missing. Times (RobotReading::time_us) are steady-clock
// microseconds. Stop holds the last commanded joints and gripper opening (what the client's safety
// layer let through last: a latched grasp stays closed, and a moving arm ends at its last target rather
// than being sent back to where its measured pose lagged), or the measured pose when nothing was
// commanded since Start. It then disables the motors when disable_on_stop (the vendor's DisablePiper):
// an arm without brakes then sinks under gravity, so park it first or set disable_on_stop = false.
// Thread-safety: Start/Read/Command/Stop from one thread (the control loop); latest_feedback() from
// any thread.
#ifndef MIVLA_CLIENT_PIPER_PIPER_CAN_DRIVER_H_
#define MIVLA_CLIENT_PIPER_PIPER_CAN_DRIVER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/driver/robot_driver.h"
#include "client/piper/can_bus.h"
#include "client/piper/piper_can_frames.h"

namespace mivla::client {

class PiperCanDriver : public RobotDriver {
 public:
  struct Options {
    std::string interface = "can0";
    int bus_fd = -1;  // >= 0: adopt this descriptor (struct can_frame datagrams) instead; owned
    int64_t feedback_timeout_us = 100000;  // Read: joint/gripper feedback older than this fails
    int64_t start_timeout_us = 3000000;    // Start: give up when the arm is not ready by then
    int64_t send_timeout_us = 20000;       // per frame, when the transmit queue is full
    double control_period_s = 0.04;
    uint8_t speed_percent = 50;      // MotionCtrl_2 speed rate, 0..100
    double gripper_effort_nm = 1.0;  // GripperCtrl effort, 0..5 N*m
    bool has_gripper = true;         // false: no gripper frames; gripper reads 0
    bool disable_on_stop = true;
    int stop_hold_frames = 5;    // Stop's hold frames (10 ms apart) before disabling
    std::string embodiment_dir;  // where piper.json lives; empty = the default
  };

  /// Loads the "piper" description and opens the bus (errors name the interface).
  static absl::StatusOr<std::unique_ptr<PiperCanDriver>> Create(Options options);
  ~PiperCanDriver() override;  // Stop() if started, then ends the receive thread

  const kinematics::EmbodimentDescription& embodiment() const override { return robot_; }
  std::vector<CameraLayout> cameras() const override { return {}; }
  double control_period_s() const override { return options_.control_period_s; }
  absl::Status Start() override;
  absl::StatusOr<RobotReading> Read(bool with_images) override;
  absl::Status Command(const RobotCommand& command) override;
  absl::Status Stop() override;

  /// Everything the arm reported last (diagnostics).
  struct Feedback {
    bool has_status = false;
    piper::ArmStatus status;
    piper::EndPose end_pose;
    piper::GripperFeedback gripper;
    std::array<bool, piper::kPiperJoints> driver_enabled{};
    int64_t frames_received = 0;
    int64_t frames_ignored = 0;  // ids the driver does not use
  };
  Feedback latest_feedback() const;

 private:
  PiperCanDriver(Options options, kinematics::EmbodimentDescription robot,
                 std::unique_ptr<CanBus> bus);
  void ReceiveLoop();
  void Handle(const piper::CanFrame& f);
  absl::Status SendFrame(const piper::CanFrame& f);
  absl::Status SendTargets(const kinematics::JointVector& q, double gripper, uint8_t gripper_code);
  std::string NotReady(int64_t now_us) const;  // empty when ready for commands

  const Options options_;
  const kinematics::EmbodimentDescription robot_;
  const std::unique_ptr<CanBus> bus_;
  bool started_ = false;  // control thread only
  std::optional<ArmTarget> last_command_;  // since Start; control thread only

  mutable absl::Mutex mu_;
  std::array<double, piper::kPiperJoints> joints_ ABSL_GUARDED_BY(mu_){};
  std::array<int64_t, 3> joint_time_us_ ABSL_GUARDED_BY(mu_){-1, -1, -1};
  int64_t gripper_time_us_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t status_time_us_ ABSL_GUARDED_BY(mu_) = -1;
  Feedback feedback_ ABSL_GUARDED_BY(mu_);
  std::string bus_error_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> stop_receiver_{false};
  std::thread receiver_;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_PIPER_PIPER_CAN_DRIVER_H_
