// File: request_builder.cc
#include "proto/request_builder.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace mivla::request {

mivla::v1::Embodiment EmbodimentToProto(action::Embodiment e) {
  return static_cast<mivla::v1::Embodiment>(static_cast<int>(e) + 1);
}

absl::StatusOr<action::Embodiment> EmbodimentFromProto(int value, const std::string& field) {
  if (value < 1 || value > action::kNumEmbodiments) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": embodiment ", value, " is not one of HUMAN, ALOHA_AGILEX, PIPER, ARX5, LOCOMAN"));
  }
  return static_cast<action::Embodiment>(value - 1);
}

mivla::v1::StartSessionRequest BuildStartSession(const SessionSpec& spec) {
  mivla::v1::StartSessionRequest r;
  r.set_embodiment(EmbodimentToProto(spec.embodiment));
  for (const Camera& c : spec.cameras) {
    mivla::v1::CameraSpec* cam = r.add_cameras();
    cam->set_name(c.name);
    cam->set_width(c.width);
    cam->set_height(c.height);
  }
  r.set_instruction(spec.instruction);
  r.set_task(spec.task);
  r.set_robot_id(spec.robot_id);
  r.set_control_rate_hz(spec.control_rate_hz);
  return r;
}

void ArmToProto(const NativeArm& arm, mivla::v1::ArmState* out) {
  out->clear_joint_positions();
  for (double q : arm.joints) out->add_joint_positions(q);
  out->set_gripper(arm.gripper);
  if (!arm.has_pose) {
    out->clear_end_effector();
    return;
  }
  const Eigen::Vector3d p = arm.ee.translation();
  Eigen::Quaterniond q(arm.ee.linear());
  q.normalize();
  if (q.w() < 0) q.coeffs() *= -1.0;
  mivla::v1::Pose* pose = out->mutable_end_effector();
  pose->set_x(p.x());
  pose->set_y(p.y());
  pose->set_z(p.z());
  pose->set_qw(q.w());
  pose->set_qx(q.x());
  pose->set_qy(q.y());
  pose->set_qz(q.z());
}

absl::StatusOr<NativeArm> ArmFromProto(const mivla::v1::ArmState& arm, bool left, const std::string& field) {
  if (arm.joint_positions_size() != 6) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".joint_positions: ", arm.joint_positions_size(), " values, want 6"));
  }
  NativeArm out;
  out.left = left;
  for (int j = 0; j < 6; ++j) out.joints[j] = arm.joint_positions(j);
  out.gripper = arm.gripper();
  if (arm.has_end_effector()) {
    const mivla::v1::Pose& p = arm.end_effector();
    Eigen::Quaterniond q(p.qw(), p.qx(), p.qy(), p.qz());
    const double n = q.norm();
    if (std::isfinite(n) && std::abs(n - 1.0) > 1e-3) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".end_effector: quaternion norm ", n, ", want 1"));
    }
    out.has_pose = true;
    out.ee = Eigen::Isometry3d::Identity();
    out.ee.translation() = Eigen::Vector3d(p.x(), p.y(), p.z());
    // A non-finite quaternion stays non-finite, so the safety layer sees it.
    out.ee.linear() = std::isfinite(n) ? q.normalized().toRotationMatrix()
                                       : Eigen::Matrix3d::Constant(std::numeric_limits<double>::quiet_NaN());
  }
  return out;
}

void SetArmStates(const std::vector<NativeArm>& arms, mivla::v1::Proprioception* out) {
  for (const NativeArm& a : arms) ArmToProto(a, a.left ? out->mutable_left() : out->mutable_right());
}

void SetUnified(const std::array<float, action::kActionDim>& values, mivla::v1::Proprioception* out) {
  out->clear_unified();
  out->mutable_unified()->Add(values.begin(), values.end());
}

void AddRawImage(const std::string& camera, int width, int height, const uint8_t* rgb, int64_t capture_time_us,
                 mivla::v1::ObserveRequest* out) {
  mivla::v1::Image* im = out->add_images();
  im->set_camera(camera);
  im->set_encoding(mivla::v1::RAW_RGB8);
  im->set_width(width);
  im->set_height(height);
  im->set_capture_time_us(capture_time_us);
  im->set_data(reinterpret_cast<const char*>(rgb), static_cast<size_t>(width) * height * 3);
}

absl::StatusOr<DecodedChunk> DecodeChunk(const mivla::v1::ActionChunk& chunk, action::Embodiment expected) {
  DecodedChunk out;
  auto e = EmbodimentFromProto(chunk.embodiment(), "chunk.embodiment");
  if (!e.ok()) return e.status();
  if (*e != expected) {
    return absl::InvalidArgumentError(absl::StrCat("chunk.embodiment: ", std::string(action::EmbodimentName(*e)), ", want ",
                                                   std::string(action::EmbodimentName(expected))));
  }
  out.embodiment = *e;
  out.control_period_s = chunk.control_period_s();
  out.observation_id = chunk.observation_id();
  if (chunk.steps_size() == 0) return absl::InvalidArgumentError("chunk.steps: empty");
  const bool robot = action::IsRobot(expected);
  const bool two = action::NumArms(expected) == 2;
  out.steps.reserve(chunk.steps_size());
  for (int i = 0; i < chunk.steps_size(); ++i) {
    const mivla::v1::ActionStep& s = chunk.steps(i);
    const std::string field = absl::StrCat("chunk.steps[", i, "]");
    DecodedStep step;
    step.time_us = s.timestamp_us();
    if (i > 0 && step.time_us <= out.steps.back().time_us) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".timestamp_us: ", step.time_us,
                                                     " does not increase (previous ", out.steps.back().time_us, ")"));
    }
    if (s.unified_size() != 0) {
      if (s.unified_size() != action::kActionDim) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".unified: ", s.unified_size(), " values, want ", action::kActionDim));
      }
      step.has_unified = true;
      for (int d = 0; d < action::kActionDim; ++d) step.unified[d] = s.unified(d);
    }
    if (robot) {
      auto right = ArmFromProto(s.right(), false, field + ".right");
      if (!right.ok()) return right.status();
      step.arms.push_back(*right);
      if (two) {
        auto left = ArmFromProto(s.left(), true, field + ".left");
        if (!left.ok()) return left.status();
        step.arms.push_back(*left);
      }
    } else if (!step.has_unified) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".unified: empty for a ",
                                                     std::string(action::EmbodimentName(expected)), " chunk"));
    }
    out.steps.push_back(std::move(step));
  }
  return out;
}

}  // namespace mivla::request
