// File: expert.cc
#include "sim/expert.h"

#include <algorithm>
#include <cmath>

#include "core/util/status_macros.h"
#include "sim/mjcf_util.h"

namespace mivla::sim {
namespace {

double WrapAngle(double a) { return std::remainder(a, 2.0 * M_PI); }

double YawOf(const Eigen::Matrix3d& r) { return std::atan2(r(1, 0), r(0, 0)); }

constexpr double kMaxJointStep = 0.1;  // rad per 40 ms control step (2.5 rad/s)
// A grasp frame within this horizontal distance of its grasp point counts as over it (PickMany).
constexpr double kOverGraspRadiusM = 0.015;

double MinimumJerk(double a) { return a * a * a * (10.0 - 15.0 * a + 6.0 * a * a); }

EffectorTarget Interpolate(const EffectorTarget& a, const EffectorTarget& b, double s) {
  EffectorTarget t;
  t.tcp.translation() = (1 - s) * a.tcp.translation() + s * b.tcp.translation();
  t.tcp.linear() = Eigen::Quaterniond(a.tcp.linear()).slerp(s, Eigen::Quaterniond(b.tcp.linear())).toRotationMatrix();
  t.closure = (1 - s) * a.closure + s * b.closure;
  return t;
}

// The grasp yaw: among the object's symmetric yaws (and, for a parallel gripper, their half-turns)
// the one closest to 0 (a hand's fingers then point away from the body) that, for an arm, IK reaches
// from its current joints (wrist joint limits rule some out).
double ChooseYaw(const SimEnv& env, int i, const Eigen::Isometry3d& grasp, double yaw0,
                 const std::vector<double>& yaw_offsets) {
  const Effector& eff = env.rig().effectors[i];
  std::vector<double> candidates;
  for (double off : yaw_offsets) {
    candidates.push_back(WrapAngle(yaw0 + off));
    if (!eff.is_hand) candidates.push_back(WrapAngle(yaw0 + off + M_PI));
  }
  std::sort(candidates.begin(), candidates.end(), [](double a, double b) { return std::abs(a) < std::abs(b); });
  if (eff.is_hand) return candidates.front();
  absl::StatusOr<kinematics::IkSolver> ik = kinematics::IkSolver::Create(eff.arm.chain, {}, eff.arm.home);
  if (!ik.ok()) return candidates.front();
  for (double yaw : candidates) {
    Eigen::Isometry3d tcp = grasp;
    tcp.linear() = TopDownFrame(yaw);
    const Eigen::Isometry3d ee = eff.base_world.inverse() * tcp * eff.tcp_in_ee.inverse();
    if (ik->Solve(ee, env.ArmJoints(i)).ok()) return yaw;
  }
  return candidates.front();
}

}  // namespace

double PalmClearance(const Effector& e) { return e.is_hand ? 0.012 : e.gripper.finger_length_m * 0.5; }
double TipReach(const Effector& e) { return e.is_hand ? 0.02 : e.gripper.finger_length_m * 0.5; }

void PlanBuilder::Add(double duration_s, std::function<void(const SimEnv&, Targets*)> update) {
  plan_->push_back({duration_s, std::move(update)});
}

void PlanBuilder::Hold(double duration_s) { Add(duration_s, nullptr); }

void PlanBuilder::SetClosure(int i, double closure, double duration_s) {
  Add(duration_s, [i, closure](const SimEnv&, Targets* t) { (*t)[i].closure = closure; });
}

void PlanBuilder::MoveBy(int i, const Eigen::Vector3d& delta, double duration_s) {
  Add(duration_s, [i, delta](const SimEnv&, Targets* t) { (*t)[i].tcp.translation() += delta; });
}

void PlanBuilder::Pick(int i, const std::string& body, const Eigen::Vector3d& grasp_point, double top_above_m,
                       const std::vector<double>& yaw_offsets, double lift, double approach) {
  PickMany({{i, grasp_point}}, body, top_above_m, yaw_offsets, lift, approach);
}

void PlanBuilder::PickMany(const std::vector<std::pair<int, Eigen::Vector3d>>& grips, const std::string& body,
                           double top_above_m, const std::vector<double>& yaw_offsets, double lift,
                           double approach) {
  const double table_z = table_z_;
  auto grasp_poses = std::make_shared<std::vector<Eigen::Isometry3d>>(grips.size());
  Add(1.4, [=](const SimEnv& env, Targets* t) {
    const Eigen::Isometry3d obj = env.BodyPose(body).value_or(Eigen::Isometry3d::Identity());
    for (size_t k = 0; k < grips.size(); ++k) {
      const int i = grips[k].first;
      const Effector& eff = env.rig().effectors[i];
      Eigen::Vector3d p = obj * grips[k].second;
      const double top = p.z() + top_above_m;
      p.z() = std::max({p.z(), top - PalmClearance(eff) + 0.006, table_z + TipReach(eff) + 0.004});
      Eigen::Isometry3d g = Eigen::Isometry3d::Identity();
      g.translation() = p;
      g.linear() = TopDownFrame(ChooseYaw(env, i, g, YawOf(obj.linear()), yaw_offsets));
      (*grasp_poses)[k] = g;
      (*t)[i].tcp = g;
      const double approach_z = std::max(p.z(), top) + approach;
      (*t)[i].tcp.translation().z() = approach_z;
      // Already over the grasp point and on the way down (an expert taking over from a policy, e.g.
      // mivla-datagen --policy-server): align at the current height instead of rising back to the
      // approach height, so that the labels agree with a plain demo's, which descends from there.
      const Eigen::Vector3d tcp_now = env.TcpWorld(i).translation();
      if ((tcp_now - p).head<2>().norm() < kOverGraspRadiusM && tcp_now.z() > p.z() && tcp_now.z() < approach_z) {
        (*t)[i].tcp.translation().z() = tcp_now.z();
      }
      (*t)[i].closure = 0.0;
    }
  });
  Add(0.9, [=](const SimEnv&, Targets* t) {
    for (size_t k = 0; k < grips.size(); ++k) (*t)[grips[k].first].tcp = (*grasp_poses)[k];
  });
  Add(0.6, [=](const SimEnv&, Targets* t) {
    for (const auto& g : grips) (*t)[g.first].closure = 1.0;
  });
  Hold(0.2);
  if (lift != 0.0) {
    Add(1.0, [=](const SimEnv&, Targets* t) {
      for (const auto& g : grips) (*t)[g.first].tcp.translation().z() += lift;
    });
  }
}

void PlanBuilder::Place(int i, const std::string& body, std::function<Eigen::Vector3d(const SimEnv&)> target_fn,
                        double release_height) {
  auto goal = std::make_shared<Eigen::Vector3d>(Eigen::Vector3d::Zero());
  Add(1.6, [=](const SimEnv& env, Targets* t) {
    const Eigen::Isometry3d obj = env.BodyPose(body).value_or(Eigen::Isometry3d::Identity());
    const Eigen::Vector3d offset = (*t)[i].tcp.translation() - obj.translation();
    // A hand holds objects by their upper part and lets go closer to the surface.
    const double extra = env.rig().effectors[i].is_hand ? 0.002 : 0.0;
    *goal = target_fn(env) + offset + Eigen::Vector3d(0, 0, release_height + extra);
    (*t)[i].tcp.translation() = *goal + Eigen::Vector3d(0, 0, 0.04);
  });
  Add(0.8, [=](const SimEnv&, Targets* t) { (*t)[i].tcp.translation() = *goal; });
  SetClosure(i, 0.0, 0.5);
  // Weakly driven fingers take a while to uncurl from under the object before the hand may rise.
  if (rig_.effectors[i].is_hand) Hold(0.5);
  MoveBy(i, Eigen::Vector3d(0, 0, 0.08), 0.8);
}

absl::StatusOr<std::unique_ptr<ExpertController>> ExpertController::Create(SimEnv* env, Plan plan) {
  std::unique_ptr<ExpertController> c(new ExpertController());
  c->env_ = env;
  c->plan_ = std::move(plan);
  const Rig& rig = env->rig();
  c->ik_.resize(rig.effectors.size());
  c->last_q_.resize(rig.effectors.size());
  for (size_t i = 0; i < rig.effectors.size(); ++i) {
    const Effector& eff = rig.effectors[i];
    EffectorTarget t;
    t.tcp = env->TcpWorld(i);
    t.closure = eff.is_hand ? env->HandClosure(i) : 0.0;
    c->from_.push_back(t);
    if (eff.is_hand) continue;
    kinematics::IkSolver::Options o;
    o.position_tolerance_m = 2e-4;
    o.rotation_tolerance_rad = 2e-3;
    ASSIGN_OR_RETURN(kinematics::IkSolver ik, kinematics::IkSolver::Create(eff.arm.chain, o, eff.arm.home));
    c->ik_[i] = std::make_unique<kinematics::IkSolver>(std::move(ik));
    c->last_q_[i] = env->ArmJoints(i);
  }
  c->to_ = c->from_;
  return c;
}

void ExpertController::Apply(const Targets& targets) {
  const Rig& rig = env_->rig();
  for (size_t i = 0; i < targets.size(); ++i) {
    const Effector& eff = rig.effectors[i];
    const EffectorTarget& t = targets[i];
    if (eff.is_hand) {
      env_->SetHandTarget(i, t.tcp * eff.grasp_in_wrist.inverse(), t.closure);
      continue;
    }
    const Eigen::Isometry3d ee = eff.base_world.inverse() * t.tcp * eff.tcp_in_ee.inverse();
    kinematics::IkSolution best;
    absl::StatusOr<kinematics::IkSolution> s = ik_[i]->Solve(ee, last_q_[i], &best);
    kinematics::JointVector next = last_q_[i];
    if (s.ok()) {
      next = s->joints;
    } else {
      ++ik_failures_;
      if (best.joints.size() == last_q_[i].size()) next = best.joints;
    }
    // No joint moves more than kMaxJointStep per control step (a jump to another IK branch would
    // whip the arm and fling what it holds).
    for (int j = 0; j < next.size(); ++j) {
      next[j] = last_q_[i][j] + std::clamp(next[j] - last_q_[i][j], -kMaxJointStep, kMaxJointStep);
    }
    last_q_[i] = next;
    const double c = std::clamp(t.closure, 0.0, 1.0);
    env_->SetArmTarget(i, last_q_[i], (1 - c) * eff.max_opening_m + c * kGripperSqueezeM);
  }
}

absl::Status ExpertController::Step() {
  if (!done() && step_in_segment_ == 0) {
    from_ = to_;
    const Segment& seg = plan_[segment_];
    if (seg.update) seg.update(*env_, &to_);
    steps_in_segment_ = std::max(1, static_cast<int>(std::lround(seg.duration_s / kControlDt)));
  }
  if (done()) {
    Apply(to_);
  } else {
    const double s = MinimumJerk(static_cast<double>(step_in_segment_ + 1) / steps_in_segment_);
    Targets now(to_.size());
    for (size_t i = 0; i < to_.size(); ++i) now[i] = Interpolate(from_[i], to_[i], s);
    Apply(now);
    if (++step_in_segment_ >= steps_in_segment_) {
      ++segment_;
      step_in_segment_ = 0;
    }
  }
  return env_->Step();
}

}  // namespace mivla::sim
