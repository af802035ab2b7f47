// File: rig.cc
#include "sim/rig.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/util/status_macros.h"
#include "sim/hand_mjcf.h"
#include "sim/mjcf_util.h"

namespace mivla::sim {
namespace {

using action::Embodiment;
using kinematics::Side;

Eigen::Isometry3d Translation(double x, double y, double z) {
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.translation() = Eigen::Vector3d(x, y, z);
  return t;
}

GripperGeometry GripperFor(Embodiment e) {
  GripperGeometry g;
  switch (e) {
    case Embodiment::kArx5: {
      // ARX-5 link6 points its x axis out of the gripper; eef_link sits 0.145 m along it.
      Eigen::Matrix3d r;
      r.col(0) = -Eigen::Vector3d::UnitZ();
      r.col(1) = Eigen::Vector3d::UnitY();
      r.col(2) = Eigen::Vector3d::UnitX();
      g.mount.linear() = r;
      g.palm_length_m = 0.10;
      g.finger_length_m = 0.07;
      g.max_opening_m = 0.088;
      break;
    }
    case Embodiment::kLocoman:
      // The manipulator hangs along -z of joint_3's frame.
      g.mount.linear() = AxisAngle(Eigen::Vector3d::UnitX(), M_PI);
      g.palm_length_m = 0.035;
      g.finger_length_m = 0.05;
      g.max_opening_m = 0.08;
      break;
    default:  // PiPER and ALOHA-AgileX: DH frame 6 z points out of the flange; fingers at ~0.135 m.
      g.palm_length_m = 0.09;
      g.finger_length_m = 0.06;
      g.max_opening_m = 0.07;
      break;
  }
  return g;
}

// The embodiment frame in the world, and the static body geometry that carries it.
Eigen::Isometry3d BasePlacement(Embodiment e, double table_z) {
  switch (e) {
    case Embodiment::kAlohaAgilex:  // arm mounts at x ~ 0.23, z ~ 0.78 of the footprint
      return Translation(-0.181, 0.0, table_z - 0.781);
    case Embodiment::kLocoman:  // trunk raised on a stand so the leg arms reach the table top
      return Translation(0.0, 0.0, table_z + 0.53);
    case Embodiment::kPiper:  // close enough that its wrist (joint 5, +-1.22 rad) can point down over the objects
      return Translation(0.05, 0.0, table_z);
    default:
      return Translation(0.0, 0.0, table_z);
  }
}

std::string BaseGeometry(Embodiment e, double table_z) {
  const std::string dark = "rgba=\"0.25 0.25 0.28 1\" contype=\"0\" conaffinity=\"0\"";
  switch (e) {
    case Embodiment::kAlohaAgilex:
      return absl::StrCat("<geom type=\"box\" pos=\"0.13 0 ", Num(0.781 - 0.02), "\" size=\"0.12 0.38 0.02\" ", dark, "/>",
                          "<geom type=\"box\" pos=\"-0.05 0 ", Num(0.781 * 0.5), "\" size=\"0.05 0.3 ",
                          Num(0.781 * 0.5), "\" ", dark, "/>");
    case Embodiment::kLocoman: {
      std::string xml = absl::StrCat("<geom type=\"box\" size=\"0.19 0.095 0.055\" rgba=\"0.3 0.3 0.33 1\" ",
                                     "contype=\"0\" conaffinity=\"0\"/>");
      for (double y : {-0.13, 0.13}) {  // rear legs standing on the table top
        absl::StrAppend(&xml, "<geom type=\"capsule\" fromto=\"-0.19 ", Num(y), " 0 -0.24 ", Num(y), " -0.2\" size=\"0.022\" ",
                        dark, "/>", "<geom type=\"capsule\" fromto=\"-0.24 ", Num(y), " -0.2 -0.18 ", Num(y),
                        " -0.29\" size=\"0.018\" ", dark, "/>");
      }
      return xml;
    }
    default:
      return absl::StrCat("<geom type=\"cylinder\" pos=\"0 0 0.01\" size=\"0.06 0.01\" ", dark, "/>");
  }
}

}  // namespace

const Effector* Rig::Find(Side side) const {
  for (const Effector& e : effectors) {
    if (e.side == side) return &e;
  }
  return nullptr;
}

std::string MainCameraName(Embodiment e) { return e == Embodiment::kHuman ? "ego" : "head"; }

absl::StatusOr<Rig> BuildRig(Embodiment embodiment, double table_z, const std::string& embodiment_dir) {
  Rig rig;
  rig.embodiment = embodiment;
  ASSIGN_OR_RETURN(rig.description, kinematics::LoadEmbodiment(embodiment, embodiment_dir));
  if (embodiment == Embodiment::kHuman) {
    rig.cameras.push_back("ego");
    for (Side side : {Side::kRight, Side::kLeft}) {
      Effector eff;
      eff.prefix = side == Side::kRight ? "rh_" : "lh_";
      eff.side = side;
      eff.is_hand = true;
      eff.grasp_in_wrist = HandGraspInWrist(side);
      eff.max_opening_m = 0.06;
      const double y = side == Side::kRight ? -0.22 : 0.22;
      // Rest pose: palm down, fingers forward, above the near edge of the table.
      Eigen::Isometry3d grasp = Translation(0.05, y, table_z + 0.2);
      grasp.linear() = TopDownFrame(0.0);
      eff.rest_wrist = grasp * eff.grasp_in_wrist.inverse();
      HandMjcfOptions ho;
      ho.prefix = eff.prefix;
      ho.side = side;
      ho.initial_wrist = eff.rest_wrist;
      absl::StrAppend(&rig.bodies_xml, HandBodiesMjcf(rig.description.hand, ho));
      absl::StrAppend(&rig.actuators_xml, HandActuatorsMjcf(ho));
      absl::StrAppend(&rig.equality_xml, HandEqualityMjcf(ho));
      rig.effectors.push_back(std::move(eff));
    }
    return rig;
  }
  rig.cameras.push_back("head");
  const Eigen::Isometry3d base = BasePlacement(embodiment, table_z);
  absl::StrAppend(&rig.bodies_xml, "<body name=\"robot_base\"", PoseAttr(base), ">", BaseGeometry(embodiment, table_z));
  for (Side side : {Side::kRight, Side::kLeft}) {
    const kinematics::ArmDescription* arm = rig.description.FindArm(side);
    if (arm == nullptr) continue;
    Effector eff;
    eff.prefix = side == Side::kRight ? "r_" : "l_";
    eff.side = side;
    eff.arm = *arm;
    eff.base_world = base;
    eff.gripper = GripperFor(embodiment);
    eff.tcp_in_ee = TcpInEe(*arm, eff.gripper);
    eff.max_opening_m = eff.gripper.max_opening_m;
    const double ready_y = embodiment == Embodiment::kAlohaAgilex ? 0.2 : embodiment == Embodiment::kLocoman ? 0.15 : 0.0;
    eff.ready_tcp = Translation(0.22, side == Side::kRight ? -ready_y : ready_y, table_z + 0.12);
    eff.ready_tcp.linear() = TopDownFrame(0.0);
    ArmMjcfOptions ao;
    ao.prefix = eff.prefix;
    ao.gripper = eff.gripper;
    if (embodiment == Embodiment::kLocoman) {
      ao.link_radius_m = 0.02;
      ao.link_rgba = Eigen::Vector4d(0.35, 0.35, 0.38, 1.0);
    }
    absl::StrAppend(&rig.bodies_xml, ArmBodiesMjcf(*arm, ao));
    absl::StrAppend(&rig.actuators_xml, ArmActuatorsMjcf(*arm, ao));
    rig.cameras.push_back(eff.prefix + "wrist");
    rig.effectors.push_back(std::move(eff));
  }
  absl::StrAppend(&rig.bodies_xml, "</body>");
  return rig;
}

}  // namespace mivla::sim
