// File: task.cc
#include "sim/task.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "sim/mjcf_util.h"
#include "sim/task_objects.h"

namespace mivla::sim {

double Uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

namespace {
constexpr const char* kObjectContact =
    "friction=\"1.5 0.02 0.001\" condim=\"4\" contype=\"1\" conaffinity=\"1\"";
}  // namespace

std::string FreeBox(const std::string& name, double x, double y, double table_z, double yaw,
                    const Eigen::Vector3d& half, const Eigen::Vector4d& rgba, double mass) {
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  pose.translation() = Eigen::Vector3d(x, y, table_z + half.z());
  pose.linear() = AxisAngle(Eigen::Vector3d::UnitZ(), yaw);
  return absl::StrCat("<body name=\"", name, "\"", PoseAttr(pose), "><freejoint name=\"", name, "_free\"/>",
                      "<geom type=\"box\" size=\"", Vec(half), "\" rgba=\"", Rgba(rgba), "\" mass=\"", Num(mass), "\" ",
                      kObjectContact, "/></body>");
}

std::string FreeCylinder(const std::string& name, double x, double y, double table_z, double radius,
                         double half_height, const Eigen::Vector4d& rgba, double mass) {
  return absl::StrCat("<body name=\"", name, "\" pos=\"", Num(x), " ", Num(y), " ", Num(table_z + half_height),
                      "\"><freejoint name=\"", name, "_free\"/><geom type=\"cylinder\" size=\"", Num(radius), " ",
                      Num(half_height), "\" rgba=\"", Rgba(rgba), "\" mass=\"", Num(mass), "\" ", kObjectContact,
                      "/></body>");
}

double XyDistance(const Eigen::Vector3d& a, const Eigen::Vector3d& b) { return (a - b).head<2>().norm(); }

double Tilt(const Eigen::Isometry3d& pose) {
  return std::acos(std::clamp(pose.linear()(2, 2), -1.0, 1.0));
}

double CubeTilt(const Eigen::Isometry3d& pose) {
  const double up = pose.linear().row(2).cwiseAbs().maxCoeff();
  return std::acos(std::clamp(up, -1.0, 1.0));
}

bool Untouched(const SimEnv& env, int body_id) {
  for (size_t i = 0; i < env.rig().effectors.size(); ++i) {
    if (env.EffectorTouches(i, body_id)) return false;
  }
  return true;
}

const std::vector<const Task*>& AllTasks() {
  static const std::vector<const Task*>* tasks = new std::vector<const Task*>{
      BottleToPadTask(), BlockInBasketTask(), StackBlocksTask(), PressBellTask(), HandoverBlockTask(), LiftPotTask()};
  return *tasks;
}

const Task* FindTask(const std::string& name) {
  for (const Task* t : AllTasks()) {
    if (t->spec().name == name) return t;
  }
  return nullptr;
}

std::vector<action::Embodiment> SupportedEmbodiments(const Task& task) {
  using action::Embodiment;
  if (task.spec().two_arm) return {Embodiment::kAlohaAgilex, Embodiment::kLocoman, Embodiment::kHuman};
  return {Embodiment::kPiper, Embodiment::kArx5, Embodiment::kLocoman, Embodiment::kHuman};
}

double LayoutShift(const Task& task, action::Embodiment embodiment) {
  return !task.spec().two_arm && embodiment == action::Embodiment::kLocoman ? -0.06 : 0.0;
}

TaskContext MakeContext(const Task& task, const Rig& rig, double table_z) {
  TaskContext ctx;
  ctx.table_z = table_z;
  for (size_t i = 0; i < rig.effectors.size(); ++i) {
    if (rig.effectors[i].side == kinematics::Side::kRight) ctx.right = static_cast<int>(i);
    if (rig.effectors[i].side == kinematics::Side::kLeft) ctx.left = static_cast<int>(i);
  }
  ctx.primary = ctx.right >= 0 ? ctx.right : 0;
  return ctx;
}

}  // namespace mivla::sim
