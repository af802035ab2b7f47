// File: request_builder.h
// Torch-free conversion between the wire messages (mivla/v1/policy.proto) and native / unified vectors,
// shared by the robot client, the benchmarks and the tests: embodiment tags, StartSession requests with a
// camera layout, observations (raw RGB8 frames, native per-arm proprioception or the unified 76-value
// vector), and action chunks read back into per-step native arm targets (with every shape checked; a
// malformed chunk is an InvalidArgument naming the field).
//
//   mivla::v1::StartSessionRequest s = request::BuildStartSession(spec);
//   request::AddRawImage("head_camera", 320, 240, rgb.data(), t_us, &observe);
//   request::SetArmStates({right_arm}, observe.mutable_proprioception());
//   ASSIGN_OR_RETURN(request::DecodedChunk c, request::DecodeChunk(act.chunk(), Embodiment::kPiper));
//
// Pure functions and plain values; thread-safe.
#ifndef MIVLA_PROTO_REQUEST_BUILDER_H_
#define MIVLA_PROTO_REQUEST_BUILDER_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "Eigen/Geometry"
#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "mivla/v1/policy.pb.h"

namespace mivla::request {

/// proto value = action::Embodiment index + 1.
mivla::v1::Embodiment EmbodimentToProto(action::Embodiment e);
/// InvalidArgument naming `field` for EMBODIMENT_UNSPECIFIED or an unknown value.
absl::StatusOr<action::Embodiment> EmbodimentFromProto(int value, const std::string& field);

struct Camera {
  std::string name;
  int width = 0;
  int height = 0;
};

struct SessionSpec {
  action::Embodiment embodiment = action::Embodiment::kPiper;
  std::vector<Camera> cameras;  // view order
  std::string instruction;
  std::string task;
  std::string robot_id;
  double control_rate_hz = 0.0;  // 0: the model's default
};
mivla::v1::StartSessionRequest BuildStartSession(const SessionSpec& spec);

/// State of, or targets for, one arm in native terms.
struct NativeArm {
  bool left = false;                 // false: the right arm (one-armed robots)
  std::array<double, 6> joints{};    // rad
  double gripper = 0.0;              // native unit
  bool has_pose = false;
  Eigen::Isometry3d ee = Eigen::Isometry3d::Identity();  // arm base frame
};

void ArmToProto(const NativeArm& arm, mivla::v1::ArmState* out);
/// `field` names the message in errors ("proprioception.right"); InvalidArgument unless 6 joints.
absl::StatusOr<NativeArm> ArmFromProto(const mivla::v1::ArmState& arm, bool left, const std::string& field);

/// Writes each arm into proprioception.left / .right.
void SetArmStates(const std::vector<NativeArm>& arms, mivla::v1::Proprioception* out);
void SetUnified(const std::array<float, action::kActionDim>& values, mivla::v1::Proprioception* out);

/// Appends a RAW_RGB8 frame (width x height x 3 bytes, row-major, top row first).
void AddRawImage(const std::string& camera, int width, int height, const uint8_t* rgb, int64_t capture_time_us,
                 mivla::v1::ObserveRequest* out);

struct DecodedStep {
  int64_t time_us = 0;
  std::vector<NativeArm> arms;  // right first, then left (two-armed embodiments)
  bool has_unified = false;
  std::array<float, action::kActionDim> unified{};
};

struct DecodedChunk {
  action::Embodiment embodiment = action::Embodiment::kPiper;
  double control_period_s = 0.0;
  uint64_t observation_id = 0;
  std::vector<DecodedStep> steps;
};

/// Checks the chunk against `expected` (embodiment, 6 joints per arm the embodiment has, 76 unified values
/// when present, increasing timestamps). Non-finite targets pass through (the safety layer holds on them).
absl::StatusOr<DecodedChunk> DecodeChunk(const mivla::v1::ActionChunk& chunk, action::Embodiment expected);

}  // namespace mivla::request

#endif  // MIVLA_PROTO_REQUEST_BUILDER_H_
