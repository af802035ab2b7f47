// File: sim_env.cc
#include "sim/sim_env.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "core/kinematics/ik_solver.h"
#include "sim/hand_mjcf.h"
#include "sim/mjcf_load.h"

namespace mivla::sim {
namespace {

Eigen::Isometry3d PoseFrom(const mjtNum* pos, const mjtNum* mat) {
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.translation() = Eigen::Vector3d(pos[0], pos[1], pos[2]);
  Eigen::Matrix3d r;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) r(a, b) = mat[3 * a + b];
  t.linear() = r;
  return t;
}

// Top-down yaws tried for an arm's ready pose. PiPER-type wrists (ALOHA too) have narrow joint 5/6
// ranges, so the yaw that keeps the joints farthest from their limits is taken; the others start at 0.
std::vector<double> ReadyYaws(action::Embodiment e) {
  if (e == action::Embodiment::kPiper || e == action::Embodiment::kAlohaAgilex) return {0.0, M_PI / 2, -M_PI / 2, M_PI};
  return {0.0};
}

}  // namespace

SimEnv::SimEnv(MjModelPtr model, mjData* data, Rig rig) : model_(std::move(model)), data_(data), rig_(std::move(rig)) {}

SimEnv::~SimEnv() {
  if (data_ != nullptr) mj_deleteData(data_);  // before model_, which it refers to
}

absl::StatusOr<std::unique_ptr<SimEnv>> SimEnv::Create(const std::string& xml, Rig rig) {
  // MuJoCo prints warnings to stdout; Step() reads mjData's warning counters instead.
  mju_user_warning = [](const char*) {};
  ASSIGN_OR_RETURN(MjModelPtr model, LoadMjcfFromString(xml, "SimEnv"));
  mjData* data = mj_makeData(model.get());
  std::unique_ptr<SimEnv> env(new SimEnv(std::move(model), data, std::move(rig)));
  RETURN_IF_ERROR(env->Init());
  return env;
}

int SimEnv::BodyId(const std::string& name) const { return mj_name2id(model_.get(), mjOBJ_BODY, name.c_str()); }

absl::Status SimEnv::Init() {
  auto id_of = [&](mjtObj type, const std::string& name) -> absl::StatusOr<int> {
    const int id = mj_name2id(model_.get(), type, name.c_str());
    if (id < 0) return absl::NotFoundError(absl::StrCat("SimEnv: model has no '", name, "'"));
    return id;
  };
  arm_ids_.resize(rig_.effectors.size());
  hand_ids_.resize(rig_.effectors.size());
  hand_closure_.assign(rig_.effectors.size(), 0.0);
  effector_bodies_.assign(rig_.effectors.size(), std::vector<bool>(model_->nbody, false));
  for (size_t e = 0; e < rig_.effectors.size(); ++e) {
    const Effector& eff = rig_.effectors[e];
    for (int b = 1; b < model_->nbody; ++b) {
      const char* name = mj_id2name(model_.get(), mjOBJ_BODY, b);
      if (name != nullptr && absl::StartsWith(name, eff.prefix)) effector_bodies_[e][b] = true;
    }
    if (eff.is_hand) {
      HandIds& h = hand_ids_[e];
      ASSIGN_OR_RETURN(h.body, id_of(mjOBJ_BODY, eff.prefix + "hand"));
      ASSIGN_OR_RETURN(int target, id_of(mjOBJ_BODY, eff.prefix + "target"));
      h.mocap = model_->body_mocapid[target];
      ASSIGN_OR_RETURN(int wrist, id_of(mjOBJ_JOINT, eff.prefix + "wrist"));
      for (int k = 0; k < 6; ++k) comp_dofs_.push_back(model_->jnt_dofadr[wrist] + k);
      for (const std::string& j : HandJointNames(eff.prefix)) {
        ASSIGN_OR_RETURN(int jid, id_of(mjOBJ_JOINT, j));
        comp_dofs_.push_back(model_->jnt_dofadr[jid]);
      }
      const int n = static_cast<int>(HandJointNames(eff.prefix).size());
      for (int i = 0; i < n; ++i) {
        ASSIGN_OR_RETURN(int aid, id_of(mjOBJ_ACTUATOR, absl::StrCat(eff.prefix, "act", i)));
        h.act.push_back(aid);
      }
      h.from = h.to = eff.rest_wrist;
      SetHandTarget(e, eff.rest_wrist, 0.0);
      continue;
    }
    ArmIds& a = arm_ids_[e];
    for (int i = 0; i < eff.arm.chain.num_joints(); ++i) {
      ASSIGN_OR_RETURN(int jid, id_of(mjOBJ_JOINT, absl::StrCat(eff.prefix, "j", i)));
      a.qpos.push_back(model_->jnt_qposadr[jid]);
      comp_dofs_.push_back(model_->jnt_dofadr[jid]);
      ASSIGN_OR_RETURN(int aid, id_of(mjOBJ_ACTUATOR, absl::StrCat(eff.prefix, "act", i)));
      a.act.push_back(aid);
    }
    for (int k = 0; k < 2; ++k) {
      const std::string tag = k == 0 ? "a" : "b";
      ASSIGN_OR_RETURN(int jid, id_of(mjOBJ_JOINT, eff.prefix + "finger_" + tag));
      a.finger_qpos[k] = model_->jnt_qposadr[jid];
      comp_dofs_.push_back(model_->jnt_dofadr[jid]);
      ASSIGN_OR_RETURN(a.finger_act[k], id_of(mjOBJ_ACTUATOR, eff.prefix + "grip_" + tag));
    }
    ASSIGN_OR_RETURN(a.ee_site, id_of(mjOBJ_SITE, eff.prefix + "ee"));
    ASSIGN_OR_RETURN(a.tcp_site, id_of(mjOBJ_SITE, eff.prefix + "tcp"));
    kinematics::JointVector home = eff.arm.chain.Clamp(eff.arm.home);
    // Start in the ready pose above the workspace when IK reaches it (else at home).
    absl::StatusOr<kinematics::IkSolver> ik = kinematics::IkSolver::Create(eff.arm.chain, {}, home);
    if (ik.ok()) {
      // Of the top-down yaws tried, take the one whose joints stay farthest from their limits.
      const kinematics::JointVector seed = home;
      double best_margin = -1.0;
      for (double yaw : ReadyYaws(rig_.embodiment)) {
        Eigen::Isometry3d tcp = eff.ready_tcp;
        tcp.linear() = eff.ready_tcp.linear() * Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitZ()).toRotationMatrix();
        const Eigen::Isometry3d ee = eff.base_world.inverse() * tcp * eff.tcp_in_ee.inverse();
        absl::StatusOr<kinematics::IkSolution> sol = ik->Solve(ee, seed);
        if (!sol.ok()) continue;
        double margin = 1.0;
        const kinematics::KinematicChain& chain = eff.arm.chain;
        for (int j = 0; j < chain.num_joints(); ++j) {
          const double range = chain.upper()[j] - chain.lower()[j];
          margin = std::min({margin, (sol->joints[j] - chain.lower()[j]) / range, (chain.upper()[j] - sol->joints[j]) / range});
        }
        if (margin > best_margin) best_margin = margin, home = sol->joints;
      }
    }
    for (int i = 0; i < home.size(); ++i) data_->qpos[a.qpos[i]] = home[i];
    for (int k = 0; k < 2; ++k) data_->qpos[a.finger_qpos[k]] = eff.max_opening_m / 2.0;
    SetArmTarget(e, home, eff.max_opening_m);
  }
  mj_forward(model_.get(), data_);
  for (int i = 0; i < 5; ++i) RETURN_IF_ERROR(Step());
  return absl::OkStatus();
}

void SimEnv::SetArmTarget(int i, const kinematics::JointVector& q, double opening_m) {
  const ArmIds& a = arm_ids_[i];
  for (size_t j = 0; j < a.act.size() && j < static_cast<size_t>(q.size()); ++j) data_->ctrl[a.act[j]] = q[j];
  for (int k = 0; k < 2; ++k) data_->ctrl[a.finger_act[k]] = opening_m / 2.0;
}

void SimEnv::SetHandTarget(int i, const Eigen::Isometry3d& wrist, double closure) {
  HandIds& h = hand_ids_[i];
  h.from = WristWorld(i);
  h.to = wrist;
  hand_closure_[i] = std::clamp(closure, 0.0, 1.0);
  const std::vector<double> targets = HandClosureTargets(hand_closure_[i]);
  for (size_t k = 0; k < h.act.size(); ++k) data_->ctrl[h.act[k]] = targets[k];
}

absl::Status SimEnv::Step(int substeps) {
  for (int s = 1; s <= substeps; ++s) {
    const double t = static_cast<double>(s) / substeps;
    for (size_t e = 0; e < rig_.effectors.size(); ++e) {
      if (!rig_.effectors[e].is_hand) continue;
      const HandIds& h = hand_ids_[e];
      const Eigen::Vector3d p = (1 - t) * h.from.translation() + t * h.to.translation();
      const Eigen::Quaterniond q = Eigen::Quaterniond(h.from.linear()).slerp(t, Eigen::Quaterniond(h.to.linear()));
      mjtNum* mp = data_->mocap_pos + 3 * h.mocap;
      mjtNum* mq = data_->mocap_quat + 4 * h.mocap;
      for (int k = 0; k < 3; ++k) mp[k] = p[k];
      mq[0] = q.w(); mq[1] = q.x(); mq[2] = q.y(); mq[3] = q.z();
    }
    for (int dof : comp_dofs_) data_->qfrc_applied[dof] = data_->qfrc_bias[dof];
    mj_step(model_.get(), data_);
    ++physics_steps_;
  }
  for (size_t e = 0; e < rig_.effectors.size(); ++e) {
    if (rig_.effectors[e].is_hand) hand_ids_[e].from = hand_ids_[e].to;
  }
  // mj_step leaves positions, sites and contacts from before its integration: bring them up to date
  // with qpos so that what is recorded and checked describes one consistent state.
  mj_forward(model_.get(), data_);
  bool bad = data_->warning[mjWARN_BADQACC].number > 0 || data_->warning[mjWARN_BADQVEL].number > 0 ||
             data_->warning[mjWARN_BADQPOS].number > 0;
  for (int i = 0; i < model_->nq && !bad; ++i) bad = !std::isfinite(data_->qpos[i]);
  if (bad) return absl::AbortedError(absl::StrCat("SimEnv: simulation diverged at t=", data_->time));
  return absl::OkStatus();
}

kinematics::JointVector SimEnv::ArmJoints(int i) const {
  const ArmIds& a = arm_ids_[i];
  kinematics::JointVector q(static_cast<int>(a.qpos.size()));
  for (size_t j = 0; j < a.qpos.size(); ++j) q[j] = data_->qpos[a.qpos[j]];
  return q;
}

double SimEnv::GripperOpening(int i) const {
  const ArmIds& a = arm_ids_[i];
  return data_->qpos[a.finger_qpos[0]] + data_->qpos[a.finger_qpos[1]];
}

Eigen::Isometry3d SimEnv::EeInBase(int i) const {
  const int s = arm_ids_[i].ee_site;
  return rig_.effectors[i].base_world.inverse() * PoseFrom(data_->site_xpos + 3 * s, data_->site_xmat + 9 * s);
}

Eigen::Isometry3d SimEnv::TcpWorld(int i) const {
  if (rig_.effectors[i].is_hand) return WristWorld(i) * rig_.effectors[i].grasp_in_wrist;
  const int s = arm_ids_[i].tcp_site;
  return PoseFrom(data_->site_xpos + 3 * s, data_->site_xmat + 9 * s);
}

Eigen::Isometry3d SimEnv::WristWorld(int i) const {
  const int b = hand_ids_[i].body;
  return PoseFrom(data_->xpos + 3 * b, data_->xmat + 9 * b);
}

absl::StatusOr<Eigen::Isometry3d> SimEnv::BodyPose(const std::string& name) const {
  const int b = BodyId(name);
  if (b < 0) return absl::NotFoundError(absl::StrCat("SimEnv: no body '", name, "'"));
  return PoseFrom(data_->xpos + 3 * b, data_->xmat + 9 * b);
}

absl::StatusOr<Eigen::Isometry3d> SimEnv::SitePose(const std::string& name) const {
  const int s = mj_name2id(model_.get(), mjOBJ_SITE, name.c_str());
  if (s < 0) return absl::NotFoundError(absl::StrCat("SimEnv: no site '", name, "'"));
  return PoseFrom(data_->site_xpos + 3 * s, data_->site_xmat + 9 * s);
}

Eigen::Vector3d SimEnv::BodyLinearVelocity(int body_id) const {
  mjtNum vel[6];
  mj_objectVelocity(model_.get(), data_, mjOBJ_BODY, body_id, vel, 0);
  return Eigen::Vector3d(vel[3], vel[4], vel[5]);
}

bool SimEnv::EffectorTouches(int i, int body_id) const {
  for (int c = 0; c < data_->ncon; ++c) {
    const mjContact& con = data_->contact[c];
    const int b1 = model_->geom_bodyid[con.geom1];
    const int b2 = model_->geom_bodyid[con.geom2];
    if ((b1 == body_id && effector_bodies_[i][b2]) || (b2 == body_id && effector_bodies_[i][b1])) return true;
  }
  return false;
}

double SimEnv::JointPosition(const std::string& name) const {
  const int j = mj_name2id(model_.get(), mjOBJ_JOINT, name.c_str());
  return j < 0 ? 0.0 : data_->qpos[model_->jnt_qposadr[j]];
}

}  // namespace mivla::sim
