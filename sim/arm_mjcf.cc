// File: arm_mjcf.cc
#include "sim/arm_mjcf.h"

#include "absl/strings/str_cat.h"
#include "sim/mjcf_util.h"

namespace mivla::sim {
namespace {

constexpr double kPadHalfThickness = 0.006;
constexpr double kPadHalfWidth = 0.012;

Eigen::Isometry3d JointBodyPose(const kinematics::JointSpec& j) {
  Eigen::Isometry3d pose = j.origin;
  if (j.type == kinematics::JointType::kRevolute && j.offset != 0.0) {
    pose.linear() = pose.linear() * AxisAngle(j.axis, j.offset);
  } else if (j.type == kinematics::JointType::kPrismatic && j.offset != 0.0) {
    pose.translation() += pose.linear() * (j.axis.normalized() * j.offset);
  }
  return pose;
}

// A capsule from the body origin to `to` (skipped when short), plus a joint housing cylinder.
std::string LinkGeoms(const Eigen::Vector3d& to, const Eigen::Vector3d& axis, const ArmMjcfOptions& o,
                      double scale) {
  std::string xml;
  const double r = o.link_radius_m * scale;
  const std::string rgba = Rgba(o.link_rgba);
  if (to.norm() > 1e-3) {
    absl::StrAppend(&xml, "<geom type=\"capsule\" fromto=\"0 0 0 ", Vec(to), "\" size=\"", Num(r),
                    "\" rgba=\"", rgba, "\" contype=\"2\" conaffinity=\"1\" density=\"300\"/>");
  }
  const Eigen::Vector3d a = axis.normalized() * r * 1.3;
  absl::StrAppend(&xml, "<geom type=\"cylinder\" fromto=\"", Vec(-a), " ", Vec(a), "\" size=\"",
                  Num(r * 1.15), "\" rgba=\"0.2 0.2 0.22 1\" contype=\"0\" conaffinity=\"0\" density=\"300\"/>");
  return xml;
}

std::string GripperBody(const ArmMjcfOptions& o) {
  const GripperGeometry& g = o.gripper;
  const std::string& p = o.prefix;
  const double half_open = g.max_opening_m / 2.0;
  const double pl = g.palm_length_m;
  const double fl = g.finger_length_m;
  const double palm_half_y = half_open + 2 * kPadHalfThickness + 0.004;
  std::string xml = absl::StrCat("<body name=\"", p, "gripper\"", PoseAttr(g.mount), ">");
  absl::StrAppend(&xml, "<geom type=\"box\" pos=\"0 0 ", Num(pl * 0.5), "\" size=\"0.02 ", Num(palm_half_y),
                  " ", Num(pl * 0.5), "\" rgba=\"0.15 0.15 0.17 1\" contype=\"2\" conaffinity=\"1\" density=\"300\"/>");
  const Eigen::Isometry3d tcp = g.TcpInMount();
  absl::StrAppend(&xml, "<site name=\"", p, "tcp\"", PoseAttr(tcp), " size=\"0.005\" rgba=\"1 0 0 0\"/>");
  for (int k = 0; k < 2; ++k) {
    const double sign = k == 0 ? 1.0 : -1.0;
    const char* tag = k == 0 ? "a" : "b";
    absl::StrAppend(&xml, "<body name=\"", p, "finger_", tag, "\" pos=\"0 ", Num(sign * kPadHalfThickness),
                    " ", Num(pl + fl * 0.5), "\">");
    absl::StrAppend(&xml, "<joint name=\"", p, "finger_", tag, "\" type=\"slide\" axis=\"0 ", Num(sign),
                    " 0\" range=\"0 ", Num(half_open), "\" damping=\"5\" armature=\"0.01\"/>");
    absl::StrAppend(&xml, "<geom name=\"", p, "pad_", tag, "\" type=\"box\" size=\"", Num(kPadHalfWidth), " ",
                    Num(kPadHalfThickness), " ", Num(fl * 0.5),
                    "\" rgba=\"0.1 0.1 0.1 1\" friction=\"1.5 0.02 0.001\" condim=\"4\" contype=\"2\" "
                    "conaffinity=\"1\" mass=\"0.02\"/>");
    absl::StrAppend(&xml, "</body>");
  }
  if (o.wrist_camera) {
    // Beside the palm, looking along the approach axis past the finger tips.
    const Eigen::Vector3d eye(-0.065, 0.0, 0.5 * pl);
    const Eigen::Vector3d target(0.0, 0.0, pl + fl + 0.08);
    Eigen::Vector3d fwd = (target - eye).normalized();
    Eigen::Vector3d up = Eigen::Vector3d::UnitX();  // image up = away from the tip side
    Eigen::Vector3d right = fwd.cross(up).normalized();
    up = right.cross(fwd);
    Eigen::Matrix3d r;
    r << right, up, -fwd;
    absl::StrAppend(&xml, "<camera name=\"", p, "wrist\" pos=\"", Vec(eye), "\" quat=\"", Quat(r),
                    "\" fovy=\"", Num(o.wrist_camera_fovy_deg), "\"/>");
  }
  absl::StrAppend(&xml, "</body>");
  return xml;
}

}  // namespace

Eigen::Isometry3d GripperGeometry::TcpInMount() const {
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.translation() = Eigen::Vector3d(0, 0, palm_length_m + finger_length_m * 0.5);
  return t;
}

Eigen::Isometry3d TcpInEe(const kinematics::ArmDescription& arm, const GripperGeometry& gripper) {
  return arm.chain.tool().inverse() * gripper.mount * gripper.TcpInMount();
}

std::string ArmBodiesMjcf(const kinematics::ArmDescription& arm, const ArmMjcfOptions& o) {
  const auto& joints = arm.chain.joints();
  const std::string& p = o.prefix;
  std::string xml = absl::StrCat("<body name=\"", p, "base\"", PoseAttr(arm.chain.base()), ">");
  const Eigen::Vector3d first = joints.empty() ? Eigen::Vector3d::Zero() : Eigen::Vector3d(joints[0].origin.translation());
  absl::StrAppend(&xml, LinkGeoms(first, Eigen::Vector3d::UnitZ(), o, 1.3));
  for (size_t i = 0; i < joints.size(); ++i) {
    const kinematics::JointSpec& j = joints[i];
    absl::StrAppend(&xml, "<body name=\"", p, "link", i, "\"", PoseAttr(JointBodyPose(j)), ">");
    const char* type = j.type == kinematics::JointType::kRevolute ? "hinge" : "slide";
    absl::StrAppend(&xml, "<joint name=\"", p, "j", i, "\" type=\"", type, "\" axis=\"", Vec(j.axis.normalized()),
                    "\" range=\"", Num(j.lower), " ", Num(j.upper), "\" damping=\"8\" armature=\"0.05\"/>");
    Eigen::Vector3d to = i + 1 < joints.size() ? Eigen::Vector3d(JointBodyPose(joints[i + 1]).translation())
                                                : Eigen::Vector3d(o.gripper.mount.translation());
    absl::StrAppend(&xml, LinkGeoms(to, j.axis, o, i < 3 ? 1.0 : 0.8));
  }
  absl::StrAppend(&xml, "<site name=\"", p, "ee\"", PoseAttr(arm.chain.tool()), " size=\"0.004\" rgba=\"0 1 0 0\"/>");
  absl::StrAppend(&xml, GripperBody(o));
  for (size_t i = 0; i < joints.size(); ++i) absl::StrAppend(&xml, "</body>");
  absl::StrAppend(&xml, "</body>");
  return xml;
}

std::string ArmActuatorsMjcf(const kinematics::ArmDescription& arm, const ArmMjcfOptions& o) {
  std::string xml;
  const std::string& p = o.prefix;
  for (int i = 0; i < arm.chain.num_joints(); ++i) {
    const kinematics::JointSpec& j = arm.chain.joints()[i];
    absl::StrAppend(&xml, "<position name=\"", p, "act", i, "\" joint=\"", p, "j", i, "\" kp=\"600\" ctrlrange=\"",
                    Num(j.lower), " ", Num(j.upper), "\"/>");
  }
  const double half_open = o.gripper.max_opening_m / 2.0;
  for (const char* tag : {"a", "b"}) {
    absl::StrAppend(&xml, "<position name=\"", p, "grip_", tag, "\" joint=\"", p, "finger_", tag,
                    "\" kp=\"400\" ctrlrange=\"-0.02 ", Num(half_open), "\" forcerange=\"", Num(-o.gripper.grip_force_n),
                    " ", Num(o.gripper.grip_force_n), "\" forcelimited=\"true\"/>");
  }
  return xml;
}

}  // namespace mivla::sim
