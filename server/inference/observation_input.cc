#include "server/inference/observation_input.h"

#include <cmath>
#include <set>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/inference/image_checks.h"
#include "server/inference/string_checks.h"

namespace mivla::server {
namespace {

using mivla::v1::Image;
using mivla::v1::ImageEncoding;

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool Finite(double v) { return std::isfinite(v); }

absl::Status CheckPose(const mivla::v1::Pose& p, const std::string& field) {
  const double v[7] = {p.x(), p.y(), p.z(), p.qw(), p.qx(), p.qy(), p.qz()};
  for (double x : v) {
    if (!Finite(x)) return Invalid(field, "contains NaN or Inf");
  }
  const double n = std::sqrt(v[3] * v[3] + v[4] * v[4] + v[5] * v[5] + v[6] * v[6]);
  if (std::abs(n - 1.0) > 1e-2) return Invalid(field, absl::StrCat("quaternion is not unit length (norm ", n, ")"));
  return absl::OkStatus();
}

absl::Status CheckArm(const mivla::v1::ArmState& arm, const std::string& field) {
  if (arm.joint_positions_size() != 6) {
    return Invalid(field + ".joint_positions",
                   absl::StrCat("expected 6 values for this embodiment, got ", arm.joint_positions_size()));
  }
  for (int i = 0; i < arm.joint_positions_size(); ++i) {
    if (!Finite(arm.joint_positions(i))) {
      return Invalid(absl::StrCat(field, ".joint_positions[", i, "]"), "is NaN or Inf");
    }
  }
  if (!Finite(arm.gripper())) return Invalid(field + ".gripper", "is NaN or Inf");
  if (arm.has_end_effector()) return CheckPose(arm.end_effector(), field + ".end_effector");
  return absl::OkStatus();
}

absl::Status CheckProprioception(const mivla::v1::Proprioception& p, action::Embodiment e) {
  const std::string f = "proprioception";
  if (p.unified_size() > 0) {
    if (p.unified_size() != action::kActionDim) {
      return Invalid(f + ".unified", absl::StrCat("expected ", action::kActionDim, " values, got ", p.unified_size()));
    }
    for (int i = 0; i < p.unified_size(); ++i) {
      if (!std::isfinite(p.unified(i))) return Invalid(absl::StrCat(f, ".unified[", i, "]"), "is NaN or Inf");
    }
    return absl::OkStatus();
  }
  if (e == action::Embodiment::kHuman) {
    return Invalid(f + ".unified", "a HUMAN session sends its hands as the 76-value unified vector");
  }
  if (!p.has_right()) return Invalid(f + ".right", "required for this embodiment");
  if (absl::Status s = CheckArm(p.right(), f + ".right"); !s.ok()) return s;
  if (action::NumArms(e) == 2) {
    if (!p.has_left()) return Invalid(f + ".left", "required for a two-armed embodiment");
    return CheckArm(p.left(), f + ".left");
  }
  if (p.has_left()) return Invalid(f + ".left", "must be empty for a one-armed embodiment (it uses `right`)");
  return absl::OkStatus();
}

void PutArm(const mivla::v1::ArmState& arm, const action::Slice& joints, const action::Slice& ee,
            RawState* out) {
  for (int i = 0; i < 6; ++i) {
    out->values[joints.begin + action::kArmJoints + i] = static_cast<float>(arm.joint_positions(i));
    out->mask.set(joints.begin + action::kArmJoints + i);
  }
  out->values[joints.begin + action::kArmGripper] = static_cast<float>(arm.gripper());
  out->mask.set(joints.begin + action::kArmGripper);
  if (!arm.has_end_effector()) return;
  const auto& p = arm.end_effector();
  const double v[7] = {p.x(), p.y(), p.z(), p.qw(), p.qx(), p.qy(), p.qz()};
  for (int i = 0; i < 7; ++i) {
    out->values[ee.begin + i] = static_cast<float>(v[i]);
    out->mask.set(ee.begin + i);
  }
}

}  // namespace

absl::StatusOr<action::Embodiment> EmbodimentFromProto(int value, const std::string& field) {
  if (value <= 0 || value > action::kNumEmbodiments) {
    return Invalid(field, value == 0 ? "EMBODIMENT_UNSPECIFIED: name the embodiment"
                                     : absl::StrCat("unknown embodiment value ", value));
  }
  return static_cast<action::Embodiment>(value - 1);
}

mivla::v1::Embodiment EmbodimentToProto(action::Embodiment e) {
  return static_cast<mivla::v1::Embodiment>(static_cast<int>(e) + 1);
}

absl::Status ValidateSessionSpec(const SessionSpec& spec, const InputLimits& limits) {
  if (spec.cameras.empty()) return Invalid("cameras", "at least one camera is required");
  if (static_cast<int>(spec.cameras.size()) > limits.max_views) {
    return Invalid("cameras", absl::StrCat(spec.cameras.size(), " cameras; at most ", limits.max_views));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < spec.cameras.size(); ++i) {
    const auto& c = spec.cameras[i];
    const std::string f = absl::StrCat("cameras[", i, "]");
    if (c.name.empty()) return Invalid(f + ".name", "empty");
    if (absl::Status s = CheckString(c.name, f + ".name", limits.max_camera_name_bytes, "--max-camera-name-bytes");
        !s.ok()) {
      return s;
    }
    if (!names.insert(c.name).second) return Invalid(f + ".name", absl::StrCat("duplicate camera '", c.name, "'"));
    if (c.width < 0 || c.height < 0 || c.width > limits.max_image_side || c.height > limits.max_image_side) {
      return Invalid(f, absl::StrCat("size ", c.width, "x", c.height, " outside 0..", limits.max_image_side));
    }
    if (static_cast<int64_t>(c.width) * c.height > limits.max_image_pixels) {
      return Invalid(f, absl::StrCat("size ", c.width, "x", c.height, " exceeds ", limits.max_image_pixels,
                                     " pixels (--max-image-pixels)"));
    }
  }
  if (absl::Status s = CheckString(spec.instruction, "instruction", limits.max_instruction_bytes,
                                   "--max-instruction-bytes");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckString(spec.robot_id, "robot_id", limits.max_robot_id_bytes, "--max-robot-id-bytes");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckString(spec.task, "task", limits.max_task_bytes, "--max-task-bytes"); !s.ok()) return s;
  if (!(spec.control_period_s > 0) || !std::isfinite(spec.control_period_s)) {
    return Invalid("control_rate_hz", "must be a positive finite rate");
  }
  return absl::OkStatus();
}

absl::Status CheckTime(int64_t t, const std::string& field, const InputLimits& limits) {
  const int64_t now = absl::ToUnixMicros(absl::Now());
  const int64_t latest = now > INT64_MAX - limits.max_future_skew_us ? INT64_MAX : now + limits.max_future_skew_us;
  if (t < 0 || t > latest) {
    return Invalid(field, absl::StrCat(t, " us is outside [0, server clock + ", limits.max_future_skew_us,
                                       " us] (--max-future-skew-s)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateObservation(const mivla::v1::ObserveRequest& r, const SessionSpec& session,
                                 const InputLimits& limits, const InputRanges* ranges) {
  if (r.images_size() != static_cast<int>(session.cameras.size())) {
    return Invalid("images", absl::StrCat("expected one image per session camera (", session.cameras.size(),
                                          "), got ", r.images_size()));
  }
  for (int i = 0; i < r.images_size(); ++i) {
    const Image& im = r.images(i);
    const std::string f = absl::StrCat("images[", i, "]");
    const CameraLayoutEntry& cam = session.cameras[i];
    if (absl::Status s = CheckImage(im, cam.name, cam.width, cam.height, f, limits); !s.ok()) return s;
    if (absl::Status s = CheckTime(im.capture_time_us(), f + ".capture_time_us", limits); !s.ok()) return s;
  }
  if (absl::Status s = CheckString(r.instruction(), "instruction", limits.max_instruction_bytes,
                                   "--max-instruction-bytes");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckTime(r.timestamp_us(), "timestamp_us", limits); !s.ok()) return s;
  if (!r.has_proprioception()) return Invalid("proprioception", "required");
  if (absl::Status s = CheckProprioception(r.proprioception(), session.embodiment); !s.ok()) return s;
  return CheckProprioceptionRanges(r.proprioception(), session.embodiment, ranges, limits);
}

absl::StatusOr<cv::Mat> DecodeImage(const Image& image, const std::string& field, const InputLimits& limits) {
  cv::Mat rgb;
  if (image.encoding() == mivla::v1::RAW_RGB8) {
    cv::Mat view(static_cast<int>(image.height()), static_cast<int>(image.width()), CV_8UC3,
                 const_cast<char*>(image.data().data()));
    return view.clone();
  }
  // The header is checked again here (ValidateObservation did it once), so no caller can hand a
  // decoder an image whose header claims more pixels than the limits allow.
  if (absl::StatusOr<ImageDims> dims = CheckedImageDims(image, field, limits); !dims.ok()) return dims.status();
  const char* kind = image.encoding() == mivla::v1::JPEG ? "JPEG" : "PNG";
  cv::Mat buf(1, static_cast<int>(image.data().size()), CV_8UC1, const_cast<char*>(image.data().data()));
  cv::Mat bgr;
  try {
    bgr = cv::imdecode(buf, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return Invalid(field + ".data", absl::StrCat("not a decodable ", kind, " (", e.what(), ")"));
  }
  if (bgr.empty()) return Invalid(field + ".data", absl::StrCat("not a decodable ", kind));
  if (bgr.cols > limits.max_image_side || bgr.rows > limits.max_image_side) {
    return Invalid(field, absl::StrCat("decoded size ", bgr.cols, "x", bgr.rows, " exceeds ", limits.max_image_side));
  }
  if ((image.width() != 0 && static_cast<int>(image.width()) != bgr.cols) ||
      (image.height() != 0 && static_cast<int>(image.height()) != bgr.rows)) {
    return Invalid(field, absl::StrCat("declared ", image.width(), "x", image.height(), " but the ", kind, " is ",
                                       bgr.cols, "x", bgr.rows));
  }
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);  // OpenCV decodes to B, G, R
  return rgb;
}

RawState StateFromProprioception(const mivla::v1::Proprioception& p, action::Embodiment e) {
  RawState out;
  if (p.unified_size() == action::kActionDim) {
    const action::ActionMask allowed = action::EmbodimentMask(e);
    for (int i = 0; i < action::kActionDim; ++i) {
      if (!allowed.test(i)) continue;
      out.values[i] = p.unified(i);
      out.mask.set(i);
    }
    return out;
  }
  PutArm(p.right(), action::kJointsRight, action::kEndEffectorRight, &out);
  if (action::NumArms(e) == 2) PutArm(p.left(), action::kJointsLeft, action::kEndEffectorLeft, &out);
  return out;
}

}  // namespace mivla::server
