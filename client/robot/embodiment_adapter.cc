// File: embodiment_adapter.cc
#include "client/robot/embodiment_adapter.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/retarget/hand_pose.h"
#include "core/util/status_macros.h"

namespace mivla::client {
namespace {

const request::NativeArm* FindSide(const request::DecodedStep& step, kinematics::Side side) {
  for (const request::NativeArm& a : step.arms) {
    if (a.left == (side == kinematics::Side::kLeft)) return &a;
  }
  return nullptr;
}

double MapGripper(double v, const kinematics::GripperSpec& from, const kinematics::GripperSpec& to) {
  if (!(from.max_m > from.min_m)) return to.max_m;
  const double f = std::clamp((v - from.min_m) / (from.max_m - from.min_m), 0.0, 1.0);
  return to.min_m + f * (to.max_m - to.min_m);
}

}  // namespace

const char* RetargetModeName(RetargetMode m) {
  switch (m) {
    case RetargetMode::kJoints: return "joints";
    case RetargetMode::kIk: return "ik";
    case RetargetMode::kHuman: return "human";
    case RetargetMode::kAuto: return "auto";
  }
  return "?";
}

absl::StatusOr<RetargetMode> ParseRetargetMode(const std::string& name) {
  if (name == "joints") return RetargetMode::kJoints;
  if (name == "ik") return RetargetMode::kIk;
  if (name == "human") return RetargetMode::kHuman;
  if (name == "auto") return RetargetMode::kAuto;
  return absl::InvalidArgumentError(absl::StrCat("retarget mode '", name, "': want joints, ik, human or auto"));
}

absl::StatusOr<AdapterOptions> ResolveRetarget(AdapterOptions options, const kinematics::EmbodimentDescription& robot,
                                               const std::vector<action::Embodiment>& model) {
  if (options.mode != RetargetMode::kAuto) return options;
  auto knows = [&](action::Embodiment e) { return std::find(model.begin(), model.end(), e) != model.end(); };
  if (knows(robot.tag)) {
    options.mode = RetargetMode::kJoints;
    options.session_embodiment = robot.tag;
    return options;
  }
  for (action::Embodiment e : {action::Embodiment::kPiper, action::Embodiment::kArx5,
                               action::Embodiment::kAlohaAgilex, action::Embodiment::kLocoman}) {
    if (knows(e) && action::NumArms(e) == static_cast<int>(robot.arms.size())) {
      options.mode = RetargetMode::kIk;
      options.session_embodiment = e;
      return options;
    }
  }
  if (knows(action::Embodiment::kHuman)) {
    options.mode = RetargetMode::kHuman;
    options.session_embodiment = action::Embodiment::kHuman;
    return options;
  }
  return absl::FailedPreconditionError(absl::StrCat("retarget auto: the model serves no embodiment that can drive a ",
                                                    robot.name, " (neither it, an arm with as many arms, nor HUMAN)"));
}

absl::StatusOr<std::unique_ptr<EmbodimentAdapter>> EmbodimentAdapter::Create(
    const kinematics::EmbodimentDescription& robot, AdapterOptions options) {
  if (robot.arms.empty()) return absl::InvalidArgumentError("retarget: the robot has no arms");
  for (const kinematics::ArmDescription& a : robot.arms) {
    if (a.chain.num_joints() != 6) {
      return absl::InvalidArgumentError(absl::StrCat("retarget: arm ", a.name, " has ", a.chain.num_joints(),
                                                     " joints; the wire carries 6 per arm"));
    }
  }
  std::unique_ptr<EmbodimentAdapter> ad(new EmbodimentAdapter());
  ad->robot_ = robot;
  const action::Embodiment s = options.session_embodiment.value_or(
      options.mode == RetargetMode::kHuman ? action::Embodiment::kHuman : robot.tag);
  ad->session_tag_ = s;
  switch (options.mode) {
    case RetargetMode::kAuto:
      return absl::InvalidArgumentError("retarget: mode auto must be resolved against the model first (ResolveRetarget)");
    case RetargetMode::kJoints:
      if (s != robot.tag) {
        return absl::InvalidArgumentError(absl::StrCat(
            "retarget: mode joints drives the robot with its own joint targets, so the session embodiment must be ",
            std::string(action::EmbodimentName(robot.tag)), ", not ", std::string(action::EmbodimentName(s)), " (use mode ik)"));
      }
      break;
    case RetargetMode::kIk: {
      if (!action::IsRobot(s) || action::NumArms(s) != static_cast<int>(robot.arms.size())) {
        return absl::InvalidArgumentError(absl::StrCat("retarget: mode ik needs a session embodiment with ",
                                                       robot.arms.size(), " arm(s), got ", std::string(action::EmbodimentName(s))));
      }
      ASSIGN_OR_RETURN(ad->session_, kinematics::LoadEmbodiment(s, options.embodiment_dir));
      for (const kinematics::ArmDescription& a : robot.arms) {
        if (ad->session_.FindArm(a.side) == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat("retarget: ", std::string(action::EmbodimentName(s)), " has no ",
                                                         kinematics::SideName(a.side), " arm"));
        }
        ASSIGN_OR_RETURN(kinematics::IkSolver solver, kinematics::IkSolver::Create(a.chain, options.ik, a.home));
        ad->solvers_.push_back(std::move(solver));
      }
      break;
    }
    case RetargetMode::kHuman: {
      if (s != action::Embodiment::kHuman) {
        return absl::InvalidArgumentError("retarget: mode human needs the session embodiment HUMAN");
      }
      ASSIGN_OR_RETURN(kinematics::HandDescription hand, kinematics::LoadHandDescription(options.embodiment_dir));
      ASSIGN_OR_RETURN(retarget::HumanToRobotMapper h2r,
                       retarget::HumanToRobotMapper::Create(robot, hand, {options.mapping, options.ik}));
      ad->h2r_.emplace(std::move(h2r));
      ASSIGN_OR_RETURN(retarget::RobotToHumanMapper r2h, retarget::RobotToHumanMapper::Create(
                           robot, hand, {{1.0, retarget::ReferencePoint::kWrist, retarget::MappingMode::kAbsolute}}));
      ad->r2h_.emplace(std::move(r2h));
      break;
    }
  }
  ad->options_ = std::move(options);
  for (const kinematics::ArmDescription& a : robot.arms) ad->seeds_.push_back(a.home);
  return ad;
}

void EmbodimentAdapter::Reset(const RobotReading& measured) {
  initial_joints_.clear();
  for (size_t i = 0; i < robot_.arms.size() && i < measured.arms.size(); ++i) {
    seeds_[i] = measured.arms[i].joints;
    initial_joints_.push_back(measured.arms[i].joints);
  }
  h2r_anchored_ = false;
  ik_failures_ = 0;
}

absl::Status EmbodimentAdapter::FillProprioception(const RobotReading& measured, mivla::v1::Proprioception* out) const {
  if (measured.arms.size() != robot_.arms.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("proprioception: ", measured.arms.size(), " arms read, the robot has ", robot_.arms.size()));
  }
  if (options_.mode == RetargetMode::kHuman) {
    std::vector<kinematics::JointVector> joints;
    std::vector<double> grippers;
    for (const ArmReading& a : measured.arms) {
      joints.push_back(a.joints);
      grippers.push_back(a.gripper);
    }
    ASSIGN_OR_RETURN(retarget::HumanHands hands, r2h_->Map(joints, grippers));
    std::array<double, action::kActionDim> v{};
    action::ActionMask mask;
    retarget::WriteHumanSlices(hands, v.data(), &mask);
    std::array<float, action::kActionDim> f{};
    for (int d = 0; d < action::kActionDim; ++d) f[d] = static_cast<float>(v[d]);
    request::SetUnified(f, out);
    return absl::OkStatus();
  }
  std::vector<request::NativeArm> arms;
  for (size_t i = 0; i < measured.arms.size(); ++i) {
    const ArmReading& r = measured.arms[i];
    request::NativeArm a;
    a.left = robot_.arms[i].side == kinematics::Side::kLeft;
    for (int j = 0; j < 6; ++j) a.joints[j] = r.joints[j];
    a.gripper = options_.mode == RetargetMode::kIk
                    ? MapGripper(r.gripper, robot_.arms[i].gripper, session_.FindArm(robot_.arms[i].side)->gripper)
                    : r.gripper;
    a.has_pose = true;
    a.ee = r.ee_in_base;
    arms.push_back(a);
  }
  request::SetArmStates(arms, out);
  return absl::OkStatus();
}

RobotCommand EmbodimentAdapter::NonFinite() const {
  RobotCommand c;
  for (const kinematics::ArmDescription& a : robot_.arms) {
    ArmTarget t;
    t.joints = kinematics::JointVector::Constant(a.chain.num_joints(), std::numeric_limits<double>::quiet_NaN());
    t.gripper = std::numeric_limits<double>::quiet_NaN();
    c.arms.push_back(t);
  }
  return c;
}

absl::StatusOr<RobotCommand> EmbodimentAdapter::Map(const request::DecodedStep& step) {
  RobotCommand cmd;
  if (options_.mode == RetargetMode::kHuman) {
    if (!step.has_unified) return absl::InvalidArgumentError("retarget: a HUMAN chunk step without unified values");
    retarget::Human48 h{};
    for (int d = 0; d < action::kHumanDim; ++d) h[d] = step.unified[d];
    absl::StatusOr<retarget::HumanHands> hands = retarget::HandsFromHuman48(h);
    if (!hands.ok()) return NonFinite();  // NaN or a degenerate rotation: hold
    if (!h2r_anchored_) {
      RETURN_IF_ERROR(h2r_->Reset(*hands, initial_joints_));
      h2r_anchored_ = true;
    }
    ASSIGN_OR_RETURN(std::vector<retarget::ArmCommand> arms, h2r_->Step(*hands));
    for (const retarget::ArmCommand& a : arms) {
      if (!a.ik_status.ok()) ++ik_failures_;
      cmd.arms.push_back({a.joints, a.gripper});
    }
    return cmd;
  }
  for (size_t i = 0; i < robot_.arms.size(); ++i) {
    const kinematics::ArmDescription& arm = robot_.arms[i];
    const request::NativeArm* in = FindSide(step, arm.side);
    if (in == nullptr) return absl::InvalidArgumentError(absl::StrCat("retarget: chunk step has no ", kinematics::SideName(arm.side), " arm"));
    ArmTarget t;
    if (options_.mode == RetargetMode::kJoints) {
      t.joints = kinematics::JointVector(6);
      for (int j = 0; j < 6; ++j) t.joints[j] = in->joints[j];
      t.gripper = in->gripper;
    } else {
      if (!in->has_pose || !in->ee.matrix().allFinite() || !std::isfinite(in->gripper)) return NonFinite();
      kinematics::IkSolution best;
      absl::StatusOr<kinematics::IkSolution> s = solvers_[i].Solve(in->ee, seeds_[i], &best);
      if (!s.ok()) {
        if (s.status().code() != absl::StatusCode::kOutOfRange) return NonFinite();
        ++ik_failures_;
        s = best;  // the nearest in-limit joints
      }
      seeds_[i] = s->joints;
      t.joints = s->joints;
      t.gripper = MapGripper(in->gripper, session_.FindArm(arm.side)->gripper, arm.gripper);
    }
    cmd.arms.push_back(std::move(t));
  }
  return cmd;
}

}  // namespace mivla::client
