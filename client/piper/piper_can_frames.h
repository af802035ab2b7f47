// File: piper_can_frames.h
// Encode/decode of the AgileX PiPER CAN frames the driver uses (standard 11-bit ids, 8 data bytes,
// 1 Mbit/s). Facts from the vendor's Python SDK, agilexrobotics/piper_sdk (MIT), read and
// rewritten:
//   ids:          piper_sdk/piper_msgs/msg_v2/can_id.py
//   byte layouts: piper_sdk/protocol/protocol_v2/piper_protocol_v2.py
//   (EncodeMessage/DecodeMessage),
//                 piper_sdk/piper_msgs/msg_v2/transmit/*.py and feedback/*.py (field docs)
//   integers:     piper_sdk/protocol/piper_protocol_base.py: multi-byte fields are big-endian
//                 (struct.pack(">i") / int.from_bytes(..., "big")), signed unless marked uint.
// Units on the wire: joints 0.001 degree (int32), gripper opening 0.001 mm (int32), gripper effort
// 0.001 N*m (uint16), end-pose position 0.001 mm, end-pose angles 0.001 degree. This file converts
// to the project's units: rad, metres (the gripper value is the full opening between the fingers,
// as in the project's PiPER description; see piper_can_frames.cc), N*m.
//
//   ASSIGN_OR_RETURN(std::array<CanFrame, 3> joints, EncodeJointCtrl(q));
//   ASSIGN_OR_RETURN(JointFeedback fb, DecodeJointFeedback(frame));
//
// Plain functions and values; thread-safe.
#ifndef MIVLA_CLIENT_PIPER_PIPER_CAN_FRAMES_H_
#define MIVLA_CLIENT_PIPER_PIPER_CAN_FRAMES_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/kinematics/kinematic_chain.h"

namespace mivla::client::piper {

/// One classic CAN frame (what SocketCAN's struct can_frame carries), independent of Linux headers.
struct CanFrame {
  uint32_t id = 0;  // 11-bit standard id
  uint8_t len = 0;  // 0..8
  std::array<uint8_t, 8> data{};
};
std::string FrameToString(const CanFrame& f);  // "151#01 01 32 00 00 00 00 00"

// Commands (host -> arm).
inline constexpr uint32_t kMotionCtrl2Id = 0x151;  // control mode, move mode, speed, MIT flag
inline constexpr uint32_t kJointCtrl12Id = 0x155;  // joints 1-2; 0x156: 3-4; 0x157: 5-6
inline constexpr uint32_t kGripperCtrlId = 0x159;
inline constexpr uint32_t kMotorEnableId = 0x471;  // motor enable/disable
// Feedback (arm -> host).
inline constexpr uint32_t kStatusFeedbackId = 0x2A1;
inline constexpr uint32_t kEndPoseFeedback1Id = 0x2A2;  // X,Y; 0x2A3: Z,RX; 0x2A4: RY,RZ
inline constexpr uint32_t kJointFeedback12Id = 0x2A5;   // joints 1-2; 0x2A6: 3-4; 0x2A7: 5-6
inline constexpr uint32_t kGripperFeedbackId = 0x2A8;
inline constexpr uint32_t kLowSpeedFeedback1Id = 0x261;  // per joint driver 1..6: 0x261..0x266

inline constexpr int kPiperJoints = 6;

// --- MotionCtrl_2 (0x151) ---
enum class CtrlMode : uint8_t {
  kStandby = 0x00,
  kCanCommand = 0x01,
  kEthernet = 0x03,
  kWifi = 0x04,
  kOfflineTrajectory = 0x07
};
enum class MoveMode : uint8_t {
  kP = 0x00,
  kJ = 0x01,
  kL = 0x02,
  kC = 0x03,
  kMit = 0x04,
  kCpv = 0x05
};
inline constexpr uint8_t kPositionSpeedMode = 0x00;  // byte 3: 0x00 position-speed, 0xAD MIT
inline constexpr uint8_t kMitMode = 0xAD;
struct MotionCtrl2 {
  CtrlMode ctrl_mode = CtrlMode::kCanCommand;
  MoveMode move_mode = MoveMode::kJ;
  uint8_t speed_percent = 50;  // 0..100
  uint8_t mit_mode = kPositionSpeedMode;
  uint8_t residence_time_s = 0;  // offline trajectory hold time
  uint8_t installation_pos = 0;  // 0x00 invalid (unchanged), 0x01 upright, 0x02 left, 0x03 right
};
absl::StatusOr<CanFrame> EncodeMotionCtrl2(const MotionCtrl2& m);
absl::StatusOr<MotionCtrl2> DecodeMotionCtrl2(const CanFrame& f);

// --- JointCtrl (0x155-0x157) and joint feedback (0x2A5-0x2A7): two int32 BE per frame ---
/// Six joint targets in rad -> three frames. InvalidArgument for a wrong size or a value that is
/// not finite or does not fit int32 millidegrees.
absl::StatusOr<std::array<CanFrame, 3>> EncodeJointCtrl(const kinematics::JointVector& q_rad);
absl::StatusOr<std::array<CanFrame, 3>> EncodeJointFeedback(const kinematics::JointVector& q_rad);
/// One joint-pair frame of either kind (0x155-0x157 or 0x2A5-0x2A7).
struct JointPair {
  int first_joint = 0;  // 0, 2 or 4
  std::array<double, 2> rad{};
};
absl::StatusOr<JointPair> DecodeJointPair(const CanFrame& f);

// --- GripperCtrl (0x159) and gripper feedback (0x2A8) ---
inline constexpr uint8_t kGripperDisable = 0x00, kGripperEnable = 0x01;
inline constexpr uint8_t kGripperDisableClearError = 0x02, kGripperEnableClearError = 0x03;
inline constexpr uint8_t kGripperSetZero = 0xAE;
struct GripperCtrl {
  double opening_m = 0.0;
  double effort_nm = 1.0;  // 0..5 N*m
  uint8_t code = kGripperEnable;
  uint8_t set_zero = 0x00;
};
absl::StatusOr<CanFrame> EncodeGripperCtrl(const GripperCtrl& g);
absl::StatusOr<GripperCtrl> DecodeGripperCtrl(const CanFrame& f);
struct GripperFeedback {
  double opening_m = 0.0;
  double effort_nm = 0.0;
  uint8_t status =
      0;  // bit 6: driver enabled; bits 0-5: voltage/temperature/current/sensor/driver faults
  bool enabled() const { return (status & 0x40) != 0; }
  bool fault() const { return (status & 0x3F) != 0; }
};
absl::StatusOr<CanFrame> EncodeGripperFeedback(const GripperFeedback& g);
absl::StatusOr<GripperFeedback> DecodeGripperFeedback(const CanFrame& f);

// --- Motor enable/disable (0x471) ---
/// The SDK's EnablePiper/DisablePiper address motor 7 (its interface docs: "7 represents all
/// motors"; its message docs call 7 the gripper and 0xFF all motors).
inline constexpr uint8_t kAllMotors = 7;
struct MotorEnable {
  uint8_t motor = kAllMotors;  // 1..7 or 0xFF
  bool enable = true;          // wire: 0x02 enable, 0x01 disable
};
absl::StatusOr<CanFrame> EncodeMotorEnable(const MotorEnable& m);
absl::StatusOr<MotorEnable> DecodeMotorEnable(const CanFrame& f);

// --- Status (0x2A1), end pose (0x2A2-0x2A4), joint driver low-speed feedback (0x261-0x266) ---
struct ArmStatus {
  uint8_t ctrl_mode = 0;  // CtrlMode values, plus 0x02 teaching, 0x05 remote, 0x06 linkage teaching
  uint8_t arm_status = 0;  // 0x00 normal, 0x01 emergency stop, 0x07 collision, ... (see .cc)
  uint8_t mode_feed = 0;   // MoveMode values
  uint8_t teach_status = 0;
  uint8_t motion_status = 0;  // 0x00 target reached, 0x01 not yet
  uint8_t trajectory_num = 0;
  uint16_t err_code = 0;  // bits 8-13: joint 1-6 angle limit; bits 0-5: joint 1-6 communication
  bool joint_limit_error(int j) const { return (err_code >> (8 + j)) & 1; }
  bool joint_comm_error(int j) const { return (err_code >> j) & 1; }
};
const char* ArmStatusName(uint8_t arm_status);  // "normal", "emergency_stop", ...
absl::StatusOr<CanFrame> EncodeStatus(const ArmStatus& s);
absl::StatusOr<ArmStatus> DecodeStatus(const CanFrame& f);

/// Flange pose as the arm reports it: metres and radians (rotation R = Rz(rz) * Ry(ry) * Rx(rx)).
struct EndPose {
  double x = 0, y = 0, z = 0, rx = 0, ry = 0, rz = 0;
};
absl::StatusOr<std::array<CanFrame, 3>> EncodeEndPoseFeedback(const EndPose& p);
/// Fills the two fields `f` carries (x,y / z,rx / ry,rz); returns which part (0, 1 or 2).
absl::StatusOr<int> DecodeEndPoseFeedback(const CanFrame& f, EndPose* pose);

struct DriverLowSpeed {
  int joint = 0;               // 0..5
  double bus_voltage_v = 0.0;  // uint16, 0.1 V
  int driver_temp_c = 0;       // int16
  int motor_temp_c = 0;        // int8
  uint8_t status = 0;          // bit 6: driver enabled; bits 0-5, 7: faults and protections
  double bus_current_a = 0.0;  // uint16, 0.001 A
  bool enabled() const { return (status & 0x40) != 0; }
};
absl::StatusOr<CanFrame> EncodeDriverLowSpeed(const DriverLowSpeed& d);
absl::StatusOr<DriverLowSpeed> DecodeDriverLowSpeed(const CanFrame& f);

}  // namespace mivla::client::piper

#endif  // MIVLA_CLIENT_PIPER_PIPER_CAN_FRAMES_H_
