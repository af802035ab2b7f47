// File: two_arm_tasks.cc
// Two-arm tasks: handover_block (the left arm picks a long block on the left and hands it to the
// right arm, which sets it on a target on the right) and lift_pot (both arms grasp a pot's handles
// and lift it level).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "sim/mjcf_util.h"
#include "sim/task_objects.h"

namespace mivla::sim {
namespace {

Eigen::Vector3d Pos(const SimEnv& env, const std::string& body) {
  return env.BodyPose(body).value_or(Eigen::Isometry3d::Identity()).translation();
}

// ---------------------------------------------------------------------------------------------------
class HandoverBlock : public Task {
 public:
  static constexpr double kHalfX = 0.015, kHalfY = 0.1, kHalfZ = 0.015, kGripY = 0.065;
  const TaskSpec& spec() const override {
    static const TaskSpec* s = new TaskSpec{
        "handover_block", true, 500,
        {"left arm lifts the block", "right arm takes the block over", "place it on the target"},
        {"Hand the block over from the left arm to the right arm.", "Pass the long block to the right hand.",
         "Give the block from left to right and put it on the target.", "Hand over the block and place it on the mark."},
        {"Transfer the bar between the arms and set it on the marker.", "Move the block across via a handover."}};
    return *s;
  }
  std::string ObjectsXml(std::mt19937_64& rng, double z, double dy) const override {
    const double tx = Uniform(rng, 0.27, 0.33), ty = Uniform(rng, -0.19, -0.15);
    return absl::StrCat(
        FreeBox("long_block", Uniform(rng, 0.27, 0.33), Uniform(rng, 0.14, 0.19), z, Uniform(rng, -0.15, 0.15),
                {kHalfX, kHalfY, kHalfZ}, {0.9, 0.6, 0.1, 1}, 0.08),
        "<body name=\"handover_target\" pos=\"", Num(tx), " ", Num(ty), " ", Num(z),
        "\"><geom type=\"box\" size=\"0.05 0.11 0.0005\" rgba=\"0.2 0.7 0.3 1\" contype=\"0\" conaffinity=\"0\"/></body>");
  }
  TaskProgress Check(const SimEnv& env, const TaskContext& ctx) const override {
    const Eigen::Vector3d block = Pos(env, "long_block");
    const int id = env.BodyId("long_block");
    const bool lifted = block.z() > ctx.table_z + kHalfZ + 0.04;
    const bool left = env.EffectorTouches(ctx.left, id), right = env.EffectorTouches(ctx.right, id);
    TaskProgress p;
    p.subtasks.push_back(lifted && left);
    p.subtasks.push_back(lifted && right && !left);
    p.success = XyDistance(block, Pos(env, "handover_target")) < 0.05 && block.z() < ctx.table_z + kHalfZ + 0.01 &&
                Untouched(env, id);
    p.subtasks.push_back(p.success);
    return p;
  }
  Plan ExpertPlan(const SimEnv& env, const TaskContext& ctx) const override {
    Plan plan;
    PlanBuilder b(&plan, env.rig(), ctx.table_z);
    const int l = ctx.left, r = ctx.right;
    const double z = ctx.table_z;
    b.Pick(l, "long_block", Eigen::Vector3d(0, kGripY, 0), kHalfZ, {0.0, M_PI}, 0.07);
    // Bring the block's centre to the middle, keeping the left grip.
    b.Add(1.5, [l, z](const SimEnv& env, Targets* t) {
      const Eigen::Vector3d c = Pos(env, "long_block");
      (*t)[l].tcp.translation() += Eigen::Vector3d(0.3 - c.x(), 0.01 - c.y(), z + 0.09 - c.z());
      (*t)[l].tcp.linear() = TopDownFrame(0.0);
    });
    b.Hold(0.3);
    b.Pick(r, "long_block", Eigen::Vector3d(0, -kGripY, 0), kHalfZ, {0.0, M_PI}, 0.0, 0.03);
    b.SetClosure(l, 0.0, 0.5);
    b.Add(1.0, [l](const SimEnv&, Targets* t) { (*t)[l].tcp.translation() += Eigen::Vector3d(0, 0.08, 0.02); });
    b.Place(r, "long_block", [z](const SimEnv& env) {
      Eigen::Vector3d p = Pos(env, "handover_target");
      p.z() = z + kHalfZ;
      return p;
    }, 0.008);
    return plan;
  }
};

// ---------------------------------------------------------------------------------------------------
class LiftPot : public Task {
 public:
  static constexpr double kHalf = 0.07, kHalfHeight = 0.035, kLift = 0.08;
  const TaskSpec& spec() const override {
    static const TaskSpec* s = new TaskSpec{
        "lift_pot", true, 330,
        {"grasp the left handle", "grasp the right handle", "lift the pot"},
        {"Lift the pot with both arms.", "Pick up the pot by its two handles.", "Raise the pot off the table.",
         "Hold both handles and lift the pot."},
        {"Use two hands to lift the cooking pot.", "Grab the pot's handles and raise it up."}};
    return *s;
  }
  std::string ObjectsXml(std::mt19937_64& rng, double z, double dy) const override {
    Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
    pose.translation() = Eigen::Vector3d(Uniform(rng, 0.28, 0.34), Uniform(rng, -0.03, 0.03), z + kHalfHeight);
    pose.linear() = AxisAngle(Eigen::Vector3d::UnitZ(), Uniform(rng, -0.15, 0.15));
    const std::string look = "friction=\"1.5 0.02 0.001\" condim=\"4\" contype=\"1\" conaffinity=\"1\"";
    std::string xml = absl::StrCat("<body name=\"pot\"", PoseAttr(pose), "><freejoint name=\"pot_free\"/>",
                                   "<geom type=\"box\" size=\"", Num(kHalf), " ", Num(kHalf), " ", Num(kHalfHeight),
                                   "\" rgba=\"0.35 0.35 0.4 1\" mass=\"0.26\" ", look, "/>");
    for (double s : {-1.0, 1.0}) {
      absl::StrAppend(&xml, "<geom type=\"box\" pos=\"0 ", Num(s * (kHalf + 0.03)), " ", Num(kHalfHeight - 0.01),
                      "\" size=\"0.015 0.03 0.01\" rgba=\"0.15 0.15 0.15 1\" mass=\"0.02\" ", look, "/>");
    }
    absl::StrAppend(&xml, "</body>");
    return xml;
  }
  TaskProgress Check(const SimEnv& env, const TaskContext& ctx) const override {
    const Eigen::Isometry3d pot = env.BodyPose("pot").value_or(Eigen::Isometry3d::Identity());
    const int id = env.BodyId("pot");
    const bool left = env.EffectorTouches(ctx.left, id), right = env.EffectorTouches(ctx.right, id);
    TaskProgress p;
    p.subtasks.push_back(left);
    p.subtasks.push_back(right);
    p.success = left && right && pot.translation().z() > ctx.table_z + kHalfHeight + 0.06 && Tilt(pot) < 0.2;
    p.subtasks.push_back(p.success);
    return p;
  }
  Plan ExpertPlan(const SimEnv& env, const TaskContext& ctx) const override {
    Plan plan;
    PlanBuilder b(&plan, env.rig(), ctx.table_z);
    const double hy = kHalf + 0.03;
    b.PickMany({{ctx.left, Eigen::Vector3d(0, hy, kHalfHeight - 0.01)}, {ctx.right, Eigen::Vector3d(0, -hy, kHalfHeight - 0.01)}},
               "pot", 0.01, {0.0, M_PI}, kLift);
    b.Hold(1.0);
    return plan;
  }
};

}  // namespace

const Task* HandoverBlockTask() { static const Task* t = new HandoverBlock(); return t; }
const Task* LiftPotTask() { static const Task* t = new LiftPot(); return t; }

}  // namespace mivla::sim
