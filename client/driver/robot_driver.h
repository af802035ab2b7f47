// File: robot_driver.h
// The one interface between a robot client's control loop and a robot: the MuJoCo simulation driver
// (client/driver/sim_driver.h) and the PiPER SocketCAN driver (client/driver/piper_can_driver.h)
// implement it. No placeholder drivers: an embodiment without a hardware driver has none.
//
// Units and frames (docs/action-space.md): joints in radians in the arm's own order (6 per arm), gripper
// opening in the embodiment's native unit (metres between the fingers; radians for LocoMan's servo),
// end-effector poses in the arm's own base frame. Arms are listed in the order of
// embodiment().arms (a one-armed robot has one arm, its right arm).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<RobotDriver> d, MakeSimDriver(...));
//   RETURN_IF_ERROR(d->Start());
//   ASSIGN_OR_RETURN(RobotReading r, d->Read(/*with_images=*/true));
//   RETURN_IF_ERROR(d->Command(cmd));      // targets for the next control period
//   d->Stop();
//
// Thread-safety: a driver is used from one thread (the control loop) unless an implementation says
// otherwise.
#ifndef MIVLA_CLIENT_DRIVER_ROBOT_DRIVER_H_
#define MIVLA_CLIENT_DRIVER_ROBOT_DRIVER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "Eigen/Geometry"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/kinematics/embodiment.h"

namespace mivla::client {

/// One camera frame: 8-bit interleaved R, G, B, row-major, top row first.
struct CameraFrame {
  std::string camera;  // e.g. "head_camera", "right_camera"
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
  int64_t capture_time_us = 0;
};

struct CameraLayout {
  std::string name;
  int width = 0;
  int height = 0;
};

/// Measured state of one arm.
struct ArmReading {
  kinematics::JointVector joints;                          // rad
  double gripper = 0.0;                                    // native unit
  Eigen::Isometry3d ee_in_base = Eigen::Isometry3d::Identity();
};

struct RobotReading {
  int64_t time_us = 0;             // the driver clock's time of the state sample
  std::vector<ArmReading> arms;    // embodiment().arms order
  std::vector<CameraFrame> images; // cameras() order; empty when not asked for
};

/// Targets for one arm.
struct ArmTarget {
  kinematics::JointVector joints;  // rad, within the arm's limits (the safety layer sees to it)
  double gripper = 0.0;            // native unit, within the gripper's range
};

struct RobotCommand {
  std::vector<ArmTarget> arms;  // embodiment().arms order
};

class RobotDriver {
 public:
  virtual ~RobotDriver() = default;

  /// The robot's kinematics (limits, home pose, gripper range).
  virtual const kinematics::EmbodimentDescription& embodiment() const = 0;
  /// Cameras this driver delivers, in view order (head camera first). May be empty (no cameras).
  virtual std::vector<CameraLayout> cameras() const = 0;
  /// The control period the driver runs at (seconds), e.g. 0.04 for the simulator.
  virtual double control_period_s() const = 0;

  /// Brings the robot up (enable motors, set the motion mode). Idempotent.
  virtual absl::Status Start() = 0;
  /// Reads the current state (and the cameras' latest frames when `with_images`).
  virtual absl::StatusOr<RobotReading> Read(bool with_images) = 0;
  /// Sends targets for the next control period. A simulation driver advances its physics by one
  /// control period here. InvalidArgument for a command of the wrong shape or a non-finite value.
  virtual absl::Status Command(const RobotCommand& command) = 0;
  /// Stops the robot safely (holds position, then disables where the hardware allows). Idempotent.
  virtual absl::Status Stop() = 0;

  /// The driver's clock in microseconds: the steady wall clock for hardware and a real-time simulation;
  /// the simulated time for a simulation run as fast as possible (simulated_clock() true), in which
  /// case the control loop never sleeps and waits for the policy in lockstep instead.
  virtual int64_t NowUs() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  virtual bool simulated_clock() const { return false; }
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_DRIVER_ROBOT_DRIVER_H_
