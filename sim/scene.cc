// File: scene.cc
#include "sim/scene.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "sim/mjcf_util.h"

namespace mivla::sim {
namespace {

double Uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

std::string TableXml(const Appearance& a) {
  const double h = a.table_height_m;
  std::string xml = absl::StrCat("<body name=\"table\" pos=\"0.3 0 ", Num(h), "\">");
  absl::StrAppend(&xml, "<geom name=\"table_top\" type=\"box\" pos=\"0 0 -0.02\" size=\"0.45 0.6 0.02\" material=\"table_mat\" ",
                  "friction=\"1 0.02 0.001\" contype=\"4\" conaffinity=\"1\"/>");
  for (double x : {-0.42, 0.42}) {
    for (double y : {-0.56, 0.56}) {
      absl::StrAppend(&xml, "<geom type=\"box\" pos=\"", Num(x), " ", Num(y), " ", Num(-(h + 0.04) / 2.0),
                      "\" size=\"0.02 0.02 ", Num((h - 0.04) / 2.0), "\" rgba=\"0.3 0.25 0.2 1\" contype=\"0\" conaffinity=\"0\"/>");
    }
  }
  absl::StrAppend(&xml, "</body>");
  return xml;
}

std::string DistractorXml(const Appearance::Distractor& d, int index, double table_z) {
  const char* type = d.shape == 0 ? "box" : d.shape == 1 ? "cylinder" : "sphere";
  const double half_height = d.shape == 2 ? d.half_size.x() : d.half_size.z();
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  pose.translation() = Eigen::Vector3d(d.xy.x(), d.xy.y(), table_z + half_height + 0.001);
  pose.linear() = AxisAngle(Eigen::Vector3d::UnitZ(), d.yaw);
  return absl::StrCat("<body name=\"distractor", index, "\"", PoseAttr(pose), "><freejoint/>",
                      "<geom type=\"", type, "\" size=\"", Vec(d.half_size), "\" rgba=\"", Rgba(d.rgba),
                      "\" mass=\"0.1\" friction=\"1 0.02 0.001\" contype=\"1\" conaffinity=\"1\"/></body>");
}

}  // namespace

const char* ModeName(Mode mode) { return mode == Mode::kEasy ? "easy" : "hard"; }

Appearance SampleAppearance(Mode mode, std::mt19937_64& rng) {
  Appearance a;
  if (mode == Mode::kEasy) {
    a.lights.push_back({{0.3, 0.0, 2.5}, {0, 0, -1}, 0.55});
    a.lights.push_back({{-0.5, 0.8, 2.0}, Eigen::Vector3d(0.4, -0.4, -1).normalized(), 0.3});
    return a;
  }
  a.table_height_m = kNominalTableHeight + Uniform(rng, -0.03, 0.03);
  a.table_rgb = Eigen::Vector3d(Uniform(rng, 0.1, 0.95), Uniform(rng, 0.1, 0.95), Uniform(rng, 0.1, 0.95));
  a.table_rgb2 = (a.table_rgb * Uniform(rng, 0.4, 0.9)).cwiseMin(1.0);
  a.texture = static_cast<Appearance::Texture>(std::uniform_int_distribution<int>(0, 3)(rng));
  const int num_lights = std::uniform_int_distribution<int>(1, 3)(rng);
  for (int i = 0; i < num_lights; ++i) {
    Eigen::Vector3d pos(Uniform(rng, -0.8, 1.2), Uniform(rng, -1.2, 1.2), Uniform(rng, 1.6, 3.0));
    Eigen::Vector3d target(Uniform(rng, 0.1, 0.5), Uniform(rng, -0.3, 0.3), a.table_height_m);
    a.lights.push_back({pos, (target - pos).normalized(), Uniform(rng, 0.25, 0.8) / std::sqrt(num_lights)});
  }
  const int num_distractors = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int i = 0; i < num_distractors; ++i) {
    Appearance::Distractor d;
    d.shape = std::uniform_int_distribution<int>(0, 2)(rng);
    const double s = Uniform(rng, 0.015, 0.03);
    d.half_size = d.shape == 0 ? Eigen::Vector3d(s, Uniform(rng, 0.015, 0.03), Uniform(rng, 0.015, 0.04))
                : d.shape == 1 ? Eigen::Vector3d(s, Uniform(rng, 0.02, 0.045), 0)
                               : Eigen::Vector3d(s, 0, 0);
    if (d.shape == 1) d.half_size = Eigen::Vector3d(s, d.half_size.y(), 0.0);
    // Far edge of the table or its outer sides, outside every task's workspace.
    if (i % 2 == 0) {
      d.xy = Eigen::Vector2d(Uniform(rng, 0.58, 0.7), Uniform(rng, -0.45, 0.45));
    } else {
      d.xy = Eigen::Vector2d(Uniform(rng, 0.15, 0.6), (rng() % 2 ? 1.0 : -1.0) * Uniform(rng, 0.42, 0.52));
    }
    d.yaw = Uniform(rng, -M_PI, M_PI);
    d.rgba = Eigen::Vector4d(Uniform(rng, 0, 1), Uniform(rng, 0, 1), Uniform(rng, 0, 1), 1.0);
    a.distractors.push_back(d);
  }
  return a;
}

std::string BuildSceneXml(const Rig& rig, const Appearance& a, const std::string& objects_xml) {
  const double h = a.table_height_m;
  std::string xml = "<mujoco model=\"mivla_tabletop\"><compiler angle=\"radian\" autolimits=\"true\"/>";
  absl::StrAppend(&xml, "<option timestep=\"0.002\" cone=\"elliptic\" impratio=\"10\"/>");
  absl::StrAppend(&xml, "<visual><global offwidth=\"", kImageWidth, "\" offheight=\"", kImageHeight,
                  "\"/><quality shadowsize=\"0\"/><headlight ambient=\"0.25 0.25 0.25\" diffuse=\"0.2 0.2 0.2\"/></visual>");
  absl::StrAppend(&xml, "<asset><texture name=\"floor_tex\" type=\"2d\" builtin=\"checker\" rgb1=\"0.35 0.35 0.38\" ",
                  "rgb2=\"0.3 0.3 0.33\" width=\"64\" height=\"64\"/>",
                  "<material name=\"floor_mat\" texture=\"floor_tex\" texrepeat=\"8 8\"/>");
  const char* builtin = nullptr;
  switch (a.texture) {
    case Appearance::Texture::kChecker: builtin = "checker"; break;
    case Appearance::Texture::kGradient: builtin = "gradient"; break;
    case Appearance::Texture::kNoise: builtin = "flat"; break;
    case Appearance::Texture::kNone: break;
  }
  if (builtin != nullptr) {
    absl::StrAppend(&xml, "<texture name=\"table_tex\" type=\"2d\" builtin=\"", builtin, "\" rgb1=\"", Vec(a.table_rgb),
                    "\" rgb2=\"", Vec(a.table_rgb2), "\" width=\"64\" height=\"64\"",
                    a.texture == Appearance::Texture::kNoise ? " mark=\"random\" random=\"0.3\" markrgb=\"" + Vec(a.table_rgb2) + "\"" : "",
                    "/><material name=\"table_mat\" texture=\"table_tex\" texrepeat=\"4 4\"/>");
  } else {
    absl::StrAppend(&xml, "<material name=\"table_mat\" rgba=\"", Vec(a.table_rgb), " 1\"/>");
  }
  absl::StrAppend(&xml, "</asset><worldbody>");
  absl::StrAppend(&xml, "<geom name=\"floor\" type=\"plane\" size=\"3 3 0.1\" material=\"floor_mat\" contype=\"4\" conaffinity=\"1\"/>");
  for (const Appearance::Light& l : a.lights) {
    absl::StrAppend(&xml, "<light pos=\"", Vec(l.pos), "\" dir=\"", Vec(l.dir), "\" diffuse=\"", Num(l.diffuse), " ",
                    Num(l.diffuse), " ", Num(l.diffuse), "\" castshadow=\"false\"/>");
  }
  absl::StrAppend(&xml, TableXml(a));
  if (rig.embodiment == action::Embodiment::kHuman) {
    const Eigen::Vector3d eye(-0.3, 0.07, h + 0.48);
    absl::StrAppend(&xml, "<camera name=\"ego\" pos=\"", Vec(eye), "\" quat=\"",
                    Quat(LookAt(eye, Eigen::Vector3d(0.32, -0.03, h), 0.08)), "\" fovy=\"", Num(kEgoFovyDeg), "\"/>");
  } else {
    // LocoMan's raised trunk would block a camera behind it: its head camera sits on the trunk's front.
    const bool locoman = rig.embodiment == action::Embodiment::kLocoman;
    const Eigen::Vector3d eye = locoman ? Eigen::Vector3d(0.24, 0.0, h + 0.78) : Eigen::Vector3d(-0.32, 0.0, h + 0.62);
    const Eigen::Vector3d target = locoman ? Eigen::Vector3d(0.42, 0.0, h) : Eigen::Vector3d(0.33, 0.0, h);
    absl::StrAppend(&xml, "<camera name=\"head\" pos=\"", Vec(eye), "\" quat=\"", Quat(LookAt(eye, target)),
                    "\" fovy=\"", Num(kHeadFovyDeg), "\"/>");
  }
  // A side view of the workspace for people debugging tasks (not one of the rig's cameras).
  const Eigen::Vector3d side_eye(0.32, -0.55, h + 0.2);
  absl::StrAppend(&xml, "<camera name=\"side\" pos=\"", Vec(side_eye), "\" quat=\"",
                  Quat(LookAt(side_eye, Eigen::Vector3d(0.3, -0.08, h + 0.04))), "\" fovy=\"45\"/>");
  const Eigen::Vector3d front_eye(0.8, -0.1, h + 0.18);
  absl::StrAppend(&xml, "<camera name=\"front\" pos=\"", Vec(front_eye), "\" quat=\"",
                  Quat(LookAt(front_eye, Eigen::Vector3d(0.3, -0.1, h + 0.04))), "\" fovy=\"40\"/>");
  absl::StrAppend(&xml, rig.bodies_xml, objects_xml);
  for (size_t i = 0; i < a.distractors.size(); ++i) absl::StrAppend(&xml, DistractorXml(a.distractors[i], i, h));
  absl::StrAppend(&xml, "</worldbody>");
  if (!rig.equality_xml.empty()) absl::StrAppend(&xml, "<equality>", rig.equality_xml, "</equality>");
  absl::StrAppend(&xml, "<actuator>", rig.actuators_xml, "</actuator></mujoco>");
  return xml;
}

}  // namespace mivla::sim
