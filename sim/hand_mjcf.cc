// File: hand_mjcf.cc
#include "sim/hand_mjcf.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "sim/mjcf_util.h"

namespace mivla::sim {
namespace {

constexpr std::array<const char*, 4> kFingers = {"Index", "Middle", "Ring", "Little"};
constexpr std::array<double, 4> kFingerZ = {0.027, 0.009, -0.009, -0.027};
constexpr std::array<double, 4> kKnuckleX = {0.088, 0.09, 0.087, 0.082};
constexpr std::array<double, 3> kPhalanxShare = {0.45, 0.30, 0.25};
constexpr std::array<double, 3> kThumbSegments = {0.032, 0.024, 0.019};
constexpr double kFingerRadius = 0.0085;

double Sx(kinematics::Side side) { return side == kinematics::Side::kRight ? 1.0 : -1.0; }
std::string SideWord(kinematics::Side side) { return side == kinematics::Side::kRight ? "right" : "left"; }

std::string Site(const std::string& name, const Eigen::Vector3d& pos) {
  return absl::StrCat("<site name=\"", name, "\" pos=\"", Vec(pos), "\" size=\"0.003\" rgba=\"0 0 1 0\"/>");
}

std::string Capsule(const Eigen::Vector3d& to, double radius, const std::string& rgba) {
  return absl::StrCat("<geom type=\"capsule\" fromto=\"0 0 0 ", Vec(to), "\" size=\"", Num(radius), "\" rgba=\"",
                      rgba, "\" friction=\"1.5 0.02 0.001\" condim=\"4\" solref=\"0.004 1\" contype=\"2\" conaffinity=\"1\" density=\"1000\"/>");
}

// A chain of three hinge segments along `dir`, sites at every joint and the tip.
std::string Digit(double radius, const std::string& p, const std::string& digit_name, const std::string& site_prefix,
                  const std::array<const char*, 4>& site_names, const Eigen::Vector3d& start,
                  const Eigen::Vector3d& dir, const std::array<double, 3>& lengths, const Eigen::Vector3d& axis,
                  const std::string& rgba, double range_lo, double range_hi) {
  std::string xml;
  Eigen::Vector3d pos = start;
  for (int s = 0; s < 3; ++s) {
    absl::StrAppend(&xml, "<body name=\"", p, digit_name, s, "\" pos=\"", Vec(pos), "\">");
    absl::StrAppend(&xml, "<joint name=\"", p, digit_name, s, "\" type=\"hinge\" axis=\"", Vec(axis), "\" range=\"",
                    Num(range_lo), " ", Num(range_hi), "\" damping=\"0.05\" armature=\"0.005\"/>");
    absl::StrAppend(&xml, Site(absl::StrCat(site_prefix, site_names[s]), Eigen::Vector3d::Zero()));
    const Eigen::Vector3d seg = dir * lengths[s];
    absl::StrAppend(&xml, Capsule(seg, radius * (1.0 - 0.08 * s), rgba));
    if (s == 2) absl::StrAppend(&xml, Site(absl::StrCat(site_prefix, site_names[3]), seg));
    pos = seg;
  }
  for (int s = 0; s < 3; ++s) absl::StrAppend(&xml, "</body>");
  return xml;
}

}  // namespace

std::vector<std::string> HandJointNames(const std::string& p) {
  std::vector<std::string> names;
  for (const char* f : kFingers) {
    for (int s = 0; s < 3; ++s) names.push_back(absl::StrCat(p, f, s));
  }
  for (int s = 0; s < 3; ++s) names.push_back(absl::StrCat(p, "Thumb", s));
  return names;
}

std::vector<double> HandClosureTargets(double c) {
  // Fingers close over the first half of the closure and the thumb over the second, so the thumb
  // presses the object against fingers already in place (and lets go first when opening).
  const double f = std::clamp(2.0 * c, 0.0, 1.0);
  const double th = std::clamp(2.0 * c - 1.0, 0.0, 1.0);
  std::vector<double> t;
  for (size_t k = 0; k < kFingers.size(); ++k) {
    t.push_back(f * 1.55);
    t.push_back(f * 0.5);
    t.push_back(f * 0.3);
  }
  t.push_back(-0.6 + th * 1.8);
  t.push_back(th * 0.8);
  t.push_back(th * 0.6);
  return t;
}

std::vector<std::string> ArkitHandJointNames(kinematics::Side side) {
  const std::string w = SideWord(side);
  std::vector<std::string> names = {absl::StrCat(w, "Hand")};
  for (const char* j : {"Knuckle", "IntermediateBase", "IntermediateTip", "Tip"}) {
    names.push_back(absl::StrCat(w, "Thumb", j));
  }
  for (const char* f : kFingers) {
    for (const char* j : {"Metacarpal", "Knuckle", "IntermediateBase", "IntermediateTip", "Tip"}) {
      names.push_back(absl::StrCat(w, f, "Finger", j));
    }
  }
  return names;
}

Eigen::Isometry3d HandGraspInWrist(kinematics::Side side) {
  const double sx = Sx(side);
  Eigen::Isometry3d g = Eigen::Isometry3d::Identity();
  Eigen::Matrix3d r;
  r.col(1) = Eigen::Vector3d(sx, 0, 0);
  r.col(2) = Eigen::Vector3d(0, -1, 0);
  r.col(0) = r.col(1).cross(r.col(2));
  g.linear() = r;
  g.translation() = Eigen::Vector3d(sx * 0.06, -0.03, 0.0);
  return g;
}

std::string HandBodiesMjcf(const kinematics::HandDescription& hand, const HandMjcfOptions& o) {
  const double sx = Sx(o.side);
  const std::string w = SideWord(o.side);
  const std::string& p = o.prefix;
  const std::string rgba = Rgba(o.skin_rgba);
  // The mocap target drags the (dynamic, free) hand through a stiff weld, so the hand has real
  // velocities and its contacts carry friction like a robot gripper's.
  std::string xml = absl::StrCat("<body name=\"", p, "target\" mocap=\"true\"", PoseAttr(o.initial_wrist), "/>");
  absl::StrAppend(&xml, "<body name=\"", p, "hand\"", PoseAttr(o.initial_wrist), "><freejoint name=\"", p, "wrist\"/>");
  const double half_breadth = hand.hand_breadth_m > 0 ? hand.hand_breadth_m / 2.0 : 0.04;
  absl::StrAppend(&xml, "<geom type=\"box\" pos=\"", Vec({sx * 0.045, 0, 0}), "\" size=\"0.045 0.012 ",
                  Num(half_breadth), "\" rgba=\"", rgba,
                  "\" friction=\"1.5 0.02 0.001\" condim=\"4\" contype=\"2\" conaffinity=\"1\"/>");
  absl::StrAppend(&xml, "<geom type=\"capsule\" fromto=\"", Vec({-sx * 0.06, 0, 0}), " 0 0 0\" size=\"0.022\" rgba=\"",
                  rgba, "\" contype=\"0\" conaffinity=\"0\"/>");
  absl::StrAppend(&xml, Site(absl::StrCat(w, "Hand"), Eigen::Vector3d::Zero()));
  const Eigen::Vector3d flex_axis(0, 0, -sx);
  for (size_t f = 0; f < kFingers.size(); ++f) {
    double length = hand.finger_length_m[f + 1] > 0 ? hand.finger_length_m[f + 1] : 0.065;
    std::array<double, 3> seg;
    for (int s = 0; s < 3; ++s) seg[s] = length * kPhalanxShare[s];
    const std::string prefix = absl::StrCat(w, kFingers[f], "Finger");
    absl::StrAppend(&xml, Site(absl::StrCat(prefix, "Metacarpal"), {sx * 0.012, 0, kFingerZ[f] * 0.6}));
    absl::StrAppend(&xml, Digit(kFingerRadius, p, kFingers[f], prefix, {"Knuckle", "IntermediateBase", "IntermediateTip", "Tip"},
                                {sx * kKnuckleX[f], 0, kFingerZ[f]}, {sx, 0, 0}, seg, flex_axis, rgba, 0.0, 1.9));
  }
  const Eigen::Vector3d thumb_dir = Eigen::Vector3d(sx * 0.3, -0.94, -0.12).normalized();
  absl::StrAppend(&xml, Digit(0.011, p, "Thumb", absl::StrCat(w, "Thumb"), {"Knuckle", "IntermediateBase", "IntermediateTip", "Tip"},
                              {sx * 0.012, -0.012, 0.014}, thumb_dir, kThumbSegments, Eigen::Vector3d(0, 0, sx),
                              rgba, -0.8, 1.6));
  absl::StrAppend(&xml, "</body>");
  return xml;
}

std::string HandEqualityMjcf(const HandMjcfOptions& o) {
  return absl::StrCat("<weld body1=\"", o.prefix, "hand\" body2=\"", o.prefix, "target\" solref=\"0.004 1\"/>");
}

std::string HandActuatorsMjcf(const HandMjcfOptions& o) {
  std::string xml;
  const std::vector<std::string> joints = HandJointNames(o.prefix);
  for (size_t i = 0; i < joints.size(); ++i) {
    // The thumb's base joint (index 12) opposes four fingers: it gets their combined strength.
    const double force = i == 12 ? 0.3 : 0.12;
    absl::StrAppend(&xml, "<position name=\"", o.prefix, "act", i, "\" joint=\"", joints[i], "\" kp=\"4\" forcerange=\"",
                    Num(-force), " ", Num(force), "\" forcelimited=\"true\"/>");
  }
  return xml;
}

}  // namespace mivla::sim
