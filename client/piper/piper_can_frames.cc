// File: piper_can_frames.cc
// Byte layouts (all from agilexrobotics/piper_sdk, see the header for the files):
//   0x151 MotionCtrl_2: [0] ctrl_mode u8, [1] move_mode u8, [2] speed % u8, [3] mit_mode u8 (0x00 /
//         0xAD), [4] residence time u8, [5] installation position u8, [6..7] 0.
//   0x155/0x156/0x157 JointCtrl and 0x2A5/0x2A6/0x2A7 joint feedback: [0..3] joint 2k+1, [4..7]
//   joint
//         2k+2, int32 big-endian, 0.001 degree.
//   0x159 GripperCtrl: [0..3] opening int32 BE 0.001 mm, [4..5] effort uint16 BE 0.001 N*m
//   (0..5000),
//         [6] code (0x00 disable, 0x01 enable, 0x02/0x03 disable/enable + clear error), [7]
//         set-zero (0x00 / 0xAE).
//   0x2A8 gripper feedback: [0..3] opening int32 BE 0.001 mm, [4..5] effort int16 BE 0.001 N*m,
//         [6] status u8 (bit 6 driver enabled), [7] reserved.
//   0x471 motor enable: [0] motor (1..7, 0xFF), [1] 0x02 enable / 0x01 disable, [2..7] 0.
//   0x2A1 status: [0] ctrl_mode, [1] arm_status, [2] mode_feed, [3] teach_status, [4]
//   motion_status,
//         [5] trajectory_num (u8 each), [6..7] err_code uint16 BE (byte 6 = bits 8-15: joint angle
//         limits; byte 7 = bits 0-7: joint communication errors).
//   0x2A2/0x2A3/0x2A4 end pose: int32 BE pairs (X,Y) (Z,RX) (RY,RZ); 0.001 mm and 0.001 degree.
//   0x261..0x266 driver low-speed feedback: [0..1] bus voltage uint16 0.1 V, [2..3] driver
//         temperature int16 degC, [4] motor temperature int8 degC, [5] status u8 (bit 6 enabled),
//         [6..7] bus current uint16 0.001 A.
// Gripper: the SDK's value is the full opening between the fingers. piper_param_manager.py limits
// it to gripper_range [0, 0.07] m times 1e6 (the 70 mm gripper), its joint demo sends an opening in
// m times 1e6, and Piper_ros doubles its per-finger joint value before sending. So the opening in
// metres is value * 1e-6, the same quantity as the project's PiPER gripper opening.
#include "client/piper/piper_can_frames.h"

#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mivla::client::piper {
namespace {

constexpr double kMilliDegPerRad = 180.0 / M_PI * 1000.0;
constexpr double kMicrometresPerMetre = 1e6;  // 0.001 mm

void PutI32(int32_t v, uint8_t* p) {
  const uint32_t u = static_cast<uint32_t>(v);
  p[0] = static_cast<uint8_t>(u >> 24);
  p[1] = static_cast<uint8_t>(u >> 16);
  p[2] = static_cast<uint8_t>(u >> 8);
  p[3] = static_cast<uint8_t>(u);
}
void PutU16(uint16_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
int32_t GetI32(const uint8_t* p) {
  return static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                              (uint32_t{p[2]} << 8) | uint32_t{p[3]});
}
uint16_t GetU16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

CanFrame Frame(uint32_t id) {
  CanFrame f;
  f.id = id;
  f.len = 8;
  return f;
}

// Rounds `value * scale` to int32; InvalidArgument naming `field` when not finite or out of range.
absl::StatusOr<int32_t> ToI32(double value, double scale, const std::string& field) {
  const double v = std::round(value * scale);
  if (!std::isfinite(v) || v < std::numeric_limits<int32_t>::min() ||
      v > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("PiPER frame: ", field, " = ", value, " is not finite or out of int32 range"));
  }
  return static_cast<int32_t>(v);
}

absl::Status Expect(const CanFrame& f, uint32_t first_id, uint32_t last_id, const char* what) {
  if (f.id < first_id || f.id > last_id) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PiPER frame: id 0x%03X is not a %s frame (0x%03X..0x%03X)", f.id, what,
                        first_id, last_id));
  }
  if (f.len != 8) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PiPER frame: %s frame 0x%03X has %d data bytes, expected 8", what, f.id, f.len));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::array<CanFrame, 3>> EncodeJoints(uint32_t first_id,
                                                     const kinematics::JointVector& q) {
  if (q.size() != kPiperJoints) {
    return absl::InvalidArgumentError(
        absl::StrCat("PiPER frame: ", q.size(), " joint values, expected ", kPiperJoints));
  }
  std::array<CanFrame, 3> frames;
  for (int k = 0; k < 3; ++k) {
    frames[k] = Frame(first_id + k);
    for (int i = 0; i < 2; ++i) {
      const int j = 2 * k + i;
      absl::StatusOr<int32_t> v = ToI32(q[j], kMilliDegPerRad, absl::StrCat("joint ", j + 1));
      if (!v.ok()) return v.status();
      PutI32(*v, &frames[k].data[4 * i]);
    }
  }
  return frames;
}

}  // namespace

std::string FrameToString(const CanFrame& f) {
  std::string s = absl::StrFormat("%03X#", f.id);
  for (int i = 0; i < f.len && i < 8; ++i)
    absl::StrAppendFormat(&s, i ? " %02X" : "%02X", f.data[i]);
  return s;
}

absl::StatusOr<CanFrame> EncodeMotionCtrl2(const MotionCtrl2& m) {
  if (m.speed_percent > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("PiPER MotionCtrl_2: speed_percent ", m.speed_percent, " is above 100"));
  }
  if (m.mit_mode != kPositionSpeedMode && m.mit_mode != kMitMode && m.mit_mode != 0xFF) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PiPER MotionCtrl_2: mit_mode 0x%02X is not 0x00, 0xAD or 0xFF", m.mit_mode));
  }
  CanFrame f = Frame(kMotionCtrl2Id);
  f.data = {static_cast<uint8_t>(m.ctrl_mode),
            static_cast<uint8_t>(m.move_mode),
            m.speed_percent,
            m.mit_mode,
            m.residence_time_s,
            m.installation_pos,
            0,
            0};
  return f;
}

absl::StatusOr<MotionCtrl2> DecodeMotionCtrl2(const CanFrame& f) {
  if (absl::Status s = Expect(f, kMotionCtrl2Id, kMotionCtrl2Id, "MotionCtrl_2"); !s.ok()) return s;
  MotionCtrl2 m;
  m.ctrl_mode = static_cast<CtrlMode>(f.data[0]);
  m.move_mode = static_cast<MoveMode>(f.data[1]);
  m.speed_percent = f.data[2];
  m.mit_mode = f.data[3];
  m.residence_time_s = f.data[4];
  m.installation_pos = f.data[5];
  return m;
}

absl::StatusOr<std::array<CanFrame, 3>> EncodeJointCtrl(const kinematics::JointVector& q_rad) {
  return EncodeJoints(kJointCtrl12Id, q_rad);
}

absl::StatusOr<std::array<CanFrame, 3>> EncodeJointFeedback(const kinematics::JointVector& q_rad) {
  return EncodeJoints(kJointFeedback12Id, q_rad);
}

absl::StatusOr<JointPair> DecodeJointPair(const CanFrame& f) {
  const bool ctrl = f.id >= kJointCtrl12Id && f.id <= kJointCtrl12Id + 2;
  const uint32_t first = ctrl ? kJointCtrl12Id : kJointFeedback12Id;
  if (absl::Status s = Expect(f, first, first + 2, ctrl ? "JointCtrl" : "joint feedback");
      !s.ok()) {
    return s;
  }
  JointPair p;
  p.first_joint = 2 * static_cast<int>(f.id - first);
  p.rad[0] = GetI32(&f.data[0]) / kMilliDegPerRad;
  p.rad[1] = GetI32(&f.data[4]) / kMilliDegPerRad;
  return p;
}

absl::StatusOr<CanFrame> EncodeGripperCtrl(const GripperCtrl& g) {
  absl::StatusOr<int32_t> opening = ToI32(g.opening_m, kMicrometresPerMetre, "gripper opening");
  if (!opening.ok()) return opening.status();
  const double effort = std::round(g.effort_nm * 1000.0);
  if (!(effort >= 0.0 && effort <= 5000.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("PiPER GripperCtrl: effort ", g.effort_nm, " N*m is outside [0, 5]"));
  }
  if (g.code > kGripperEnableClearError || (g.set_zero != 0 && g.set_zero != kGripperSetZero)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PiPER GripperCtrl: code 0x%02X (0x00..0x03) or set_zero 0x%02X (0x00, 0xAE) invalid",
        g.code, g.set_zero));
  }
  CanFrame f = Frame(kGripperCtrlId);
  PutI32(*opening, &f.data[0]);
  PutU16(static_cast<uint16_t>(effort), &f.data[4]);
  f.data[6] = g.code;
  f.data[7] = g.set_zero;
  return f;
}

absl::StatusOr<GripperCtrl> DecodeGripperCtrl(const CanFrame& f) {
  if (absl::Status s = Expect(f, kGripperCtrlId, kGripperCtrlId, "GripperCtrl"); !s.ok()) return s;
  GripperCtrl g;
  g.opening_m = GetI32(&f.data[0]) / kMicrometresPerMetre;
  g.effort_nm = GetU16(&f.data[4]) / 1000.0;
  g.code = f.data[6];
  g.set_zero = f.data[7];
  return g;
}

absl::StatusOr<CanFrame> EncodeGripperFeedback(const GripperFeedback& g) {
  absl::StatusOr<int32_t> opening = ToI32(g.opening_m, kMicrometresPerMetre, "gripper opening");
  if (!opening.ok()) return opening.status();
  const double effort = std::round(g.effort_nm * 1000.0);
  if (!(effort >= -32768.0 && effort <= 32767.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("PiPER gripper feedback: effort ", g.effort_nm, " N*m out of int16 range"));
  }
  CanFrame f = Frame(kGripperFeedbackId);
  PutI32(*opening, &f.data[0]);
  PutU16(static_cast<uint16_t>(static_cast<int16_t>(effort)), &f.data[4]);
  f.data[6] = g.status;
  return f;
}

absl::StatusOr<GripperFeedback> DecodeGripperFeedback(const CanFrame& f) {
  if (absl::Status s = Expect(f, kGripperFeedbackId, kGripperFeedbackId, "gripper feedback");
      !s.ok()) {
    return s;
  }
  GripperFeedback g;
  g.opening_m = GetI32(&f.data[0]) / kMicrometresPerMetre;
  g.effort_nm = static_cast<int16_t>(GetU16(&f.data[4])) / 1000.0;
  g.status = f.data[6];
  return g;
}

absl::StatusOr<CanFrame> EncodeMotorEnable(const MotorEnable& m) {
  if ((m.motor < 1 || m.motor > 7) && m.motor != 0xFF) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PiPER motor enable: motor %d is not 1..7 or 0xFF", m.motor));
  }
  CanFrame f = Frame(kMotorEnableId);
  f.data[0] = m.motor;
  f.data[1] = m.enable ? 0x02 : 0x01;
  return f;
}

absl::StatusOr<MotorEnable> DecodeMotorEnable(const CanFrame& f) {
  if (absl::Status s = Expect(f, kMotorEnableId, kMotorEnableId, "motor enable"); !s.ok()) return s;
  if (f.data[1] != 0x01 && f.data[1] != 0x02) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PiPER motor enable: flag 0x%02X is not 0x01 or 0x02", f.data[1]));
  }
  return MotorEnable{f.data[0], f.data[1] == 0x02};
}

const char* ArmStatusName(uint8_t arm_status) {
  static constexpr const char* kNames[] = {"normal",
                                           "emergency_stop",
                                           "no_solution",
                                           "singularity",
                                           "target_exceeds_limit",
                                           "joint_communication_error",
                                           "joint_brake_not_released",
                                           "collision",
                                           "overspeed_during_drag_teaching",
                                           "joint_status_error",
                                           "other_error",
                                           "teaching_record",
                                           "teaching_execution",
                                           "teaching_pause",
                                           "main_controller_over_temperature",
                                           "release_resistor_over_temperature"};
  return arm_status < 16 ? kNames[arm_status] : "unknown";
}

absl::StatusOr<CanFrame> EncodeStatus(const ArmStatus& s) {
  CanFrame f = Frame(kStatusFeedbackId);
  f.data = {s.ctrl_mode,     s.arm_status,     s.mode_feed, s.teach_status,
            s.motion_status, s.trajectory_num, 0,           0};
  PutU16(s.err_code, &f.data[6]);
  return f;
}

absl::StatusOr<ArmStatus> DecodeStatus(const CanFrame& f) {
  if (absl::Status s = Expect(f, kStatusFeedbackId, kStatusFeedbackId, "status"); !s.ok()) return s;
  ArmStatus s;
  s.ctrl_mode = f.data[0];
  s.arm_status = f.data[1];
  s.mode_feed = f.data[2];
  s.teach_status = f.data[3];
  s.motion_status = f.data[4];
  s.trajectory_num = f.data[5];
  s.err_code = GetU16(&f.data[6]);
  return s;
}

absl::StatusOr<std::array<CanFrame, 3>> EncodeEndPoseFeedback(const EndPose& p) {
  const double values[6] = {p.x, p.y, p.z, p.rx, p.ry, p.rz};
  std::array<CanFrame, 3> frames;
  for (int k = 0; k < 3; ++k) {
    frames[k] = Frame(kEndPoseFeedback1Id + k);
    for (int i = 0; i < 2; ++i) {
      const int n = 2 * k + i;
      const double scale = n < 3 ? kMicrometresPerMetre : kMilliDegPerRad;
      absl::StatusOr<int32_t> v = ToI32(values[n], scale, absl::StrCat("end pose field ", n));
      if (!v.ok()) return v.status();
      PutI32(*v, &frames[k].data[4 * i]);
    }
  }
  return frames;
}

absl::StatusOr<int> DecodeEndPoseFeedback(const CanFrame& f, EndPose* pose) {
  if (absl::Status s = Expect(f, kEndPoseFeedback1Id, kEndPoseFeedback1Id + 2, "end pose");
      !s.ok()) {
    return s;
  }
  const int part = static_cast<int>(f.id - kEndPoseFeedback1Id);
  double* fields[6] = {&pose->x, &pose->y, &pose->z, &pose->rx, &pose->ry, &pose->rz};
  for (int i = 0; i < 2; ++i) {
    const int n = 2 * part + i;
    const double scale = n < 3 ? kMicrometresPerMetre : kMilliDegPerRad;
    *fields[n] = GetI32(&f.data[4 * i]) / scale;
  }
  return part;
}

absl::StatusOr<CanFrame> EncodeDriverLowSpeed(const DriverLowSpeed& d) {
  if (d.joint < 0 || d.joint >= kPiperJoints) {
    return absl::InvalidArgumentError(absl::StrCat("PiPER low-speed feedback: joint ", d.joint));
  }
  CanFrame f = Frame(kLowSpeedFeedback1Id + d.joint);
  PutU16(static_cast<uint16_t>(std::lround(d.bus_voltage_v * 10.0)), &f.data[0]);
  PutU16(static_cast<uint16_t>(static_cast<int16_t>(d.driver_temp_c)), &f.data[2]);
  f.data[4] = static_cast<uint8_t>(static_cast<int8_t>(d.motor_temp_c));
  f.data[5] = d.status;
  PutU16(static_cast<uint16_t>(std::lround(d.bus_current_a * 1000.0)), &f.data[6]);
  return f;
}

absl::StatusOr<DriverLowSpeed> DecodeDriverLowSpeed(const CanFrame& f) {
  if (absl::Status s =
          Expect(f, kLowSpeedFeedback1Id, kLowSpeedFeedback1Id + 5, "driver low-speed feedback");
      !s.ok()) {
    return s;
  }
  DriverLowSpeed d;
  d.joint = static_cast<int>(f.id - kLowSpeedFeedback1Id);
  d.bus_voltage_v = GetU16(&f.data[0]) / 10.0;
  d.driver_temp_c = static_cast<int16_t>(GetU16(&f.data[2]));
  d.motor_temp_c = static_cast<int8_t>(f.data[4]);
  d.status = f.data[5];
  d.bus_current_a = GetU16(&f.data[6]) / 1000.0;
  return d;
}

}  // namespace mivla::client::piper
