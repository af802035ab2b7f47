#include "core/data/complements.h"

#include <iostream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/data/complement_cache.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/retarget/hand_pose.h"
#include "core/retarget/human_to_robot.h"
#include "core/retarget/robot_to_human.h"
#include "core/util/status_macros.h"

namespace mivla::data {
namespace {

using action::ActionMask;
using action::Slice;
using kinematics::Side;

const Slice& HandSlice(Side s) { return s == Side::kLeft ? action::kHumanLeft : action::kHumanRight; }
const Slice& JointSlice(Side s) { return s == Side::kLeft ? action::kJointsLeft : action::kJointsRight; }
const Slice& EeSlice(Side s) { return s == Side::kLeft ? action::kEndEffectorLeft : action::kEndEffectorRight; }

bool Covers(const ActionMask& mask, const Slice& s) { return (mask & action::SliceMask(s)) == action::SliceMask(s); }

absl::Status Invalid(const UnifiedEpisode& ep, int t, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(ep.source.empty() ? "episode" : ep.source, ": frame ", t, ": ", what));
}

// The hands of frame t whose 24 values are all valid.
absl::StatusOr<retarget::HumanHands> HandsAt(const UnifiedEpisode& ep, int t) {
  retarget::HumanHands hands;
  for (Side s : {Side::kLeft, Side::kRight}) {
    if (!Covers(ep.masks[t], HandSlice(s))) continue;
    absl::StatusOr<retarget::HandPose> h = retarget::HandFromSlice(ep.states[t].data() + HandSlice(s).begin);
    if (!h.ok()) return Invalid(ep, t, absl::StrCat(kinematics::SideName(s), " hand: ", h.status().message()));
    hands.Set(s, *h);
  }
  return hands;
}

absl::StatusOr<ComplementReport> HumanComplements(UnifiedEpisode& ep, const ComplementOptions& o) {
  if (!action::IsRobot(o.human_target)) {
    return absl::InvalidArgumentError(absl::StrCat("complements: human_target ", std::string(action::EmbodimentName(o.human_target)),
                                                   " is not a robot"));
  }
  ASSIGN_OR_RETURN(kinematics::EmbodimentDescription robot, kinematics::LoadEmbodiment(o.human_target, o.embodiment_dir));
  ASSIGN_OR_RETURN(kinematics::HandDescription hand, kinematics::LoadHandDescription(o.embodiment_dir));
  ASSIGN_OR_RETURN(retarget::HumanToRobotMapper mapper, retarget::HumanToRobotMapper::Create(robot, hand, {}));
  ComplementReport report;
  report.frames = ep.num_frames();
  ep.complement_embodiment = o.human_target;
  bool started = false;
  for (int t = 0; t < ep.num_frames(); ++t) {
    ASSIGN_OR_RETURN(retarget::HumanHands hands, HandsAt(ep, t));
    if (!started) {
      if (!hands.present[0] && !hands.present[1]) continue;  // no hand yet: nothing to anchor to
      RETURN_IF_ERROR(mapper.Reset(hands));
      started = true;
    }
    absl::StatusOr<std::vector<retarget::ArmCommand>> cmds = mapper.Step(hands);
    if (!cmds.ok()) return Invalid(ep, t, std::string(cmds.status().message()));
    UnifiedVector robot_values{};
    retarget::WriteRobotSlices(robot, *cmds, robot_values.data(), nullptr);
    bool failed = false;
    for (const retarget::ArmCommand& c : *cmds) {
      if (!c.hand_present) continue;
      if (!c.ik_status.ok()) {
        failed = true;
        continue;
      }
      for (const Slice* s : {&JointSlice(c.side), &EeSlice(c.side)}) {
        for (int k = s->begin; k < s->end(); ++k) ep.states[t][k] = robot_values[k];
        ep.complement_masks[t] |= action::SliceMask(*s);
      }
    }
    if (failed) ++report.ik_failures;
  }
  return report;
}

absl::StatusOr<ComplementReport> RobotComplements(UnifiedEpisode& ep, const ComplementOptions& o) {
  ASSIGN_OR_RETURN(kinematics::EmbodimentDescription robot, kinematics::LoadEmbodiment(ep.embodiment, o.embodiment_dir));
  ASSIGN_OR_RETURN(kinematics::HandDescription hand, kinematics::LoadHandDescription(o.embodiment_dir));
  ASSIGN_OR_RETURN(retarget::RobotToHumanMapper mapper, retarget::RobotToHumanMapper::Create(robot, hand, {}));
  ComplementReport report;
  report.frames = ep.num_frames();
  ep.complement_embodiment = action::Embodiment::kHuman;
  const size_t arms = robot.arms.size();
  auto joints_at = [&](int t, size_t a, kinematics::JointVector* q, double* gripper) {
    const Slice& js = JointSlice(robot.arms[a].side);
    if (!Covers(ep.masks[t], js)) return false;
    *q = kinematics::JointVector(6);
    for (int j = 0; j < 6; ++j) (*q)[j] = ep.states[t][js.begin + action::kArmJoints + j];
    *gripper = ep.states[t][js.begin + action::kArmGripper];
    return true;
  };
  for (size_t a = 0; a < arms; ++a) {
    if (robot.arms[a].chain.num_joints() != 6) {
      return absl::InvalidArgumentError(absl::StrCat(robot.name, " arm '", robot.arms[a].name, "' has ",
                                                     robot.arms[a].chain.num_joints(), " joints; the unified action holds 6"));
    }
  }
  // Anchor: each arm's joints at the first frame that has them (home otherwise); K_0 from E_0 (eq. 3).
  std::vector<kinematics::JointVector> initial;
  for (size_t a = 0; a < arms; ++a) {
    kinematics::JointVector q = robot.arms[a].home;
    double g = 0;
    for (int t = 0; t < ep.num_frames(); ++t) {
      if (joints_at(t, a, &q, &g)) break;
    }
    initial.push_back(q);
  }
  RETURN_IF_ERROR(mapper.Reset(initial, {}));
  for (int t = 0; t < ep.num_frames(); ++t) {
    std::vector<kinematics::JointVector> q(arms);
    std::vector<double> g(arms, 0.0);
    std::vector<bool> present(arms, false);
    for (size_t a = 0; a < arms; ++a) {
      present[a] = joints_at(t, a, &q[a], &g[a]);
      if (!present[a]) {
        q[a] = robot.arms[a].home;
        g[a] = robot.arms[a].gripper.min_m;
      }
    }
    absl::StatusOr<retarget::HumanHands> hands = mapper.Map(q, g);
    if (!hands.ok()) return Invalid(ep, t, std::string(hands.status().message()));
    for (size_t a = 0; a < arms; ++a) {
      if (!present[a]) continue;
      const Side side = robot.arms[a].side;
      retarget::HumanHands one;
      one.Set(side, hands->at(side));
      retarget::WriteHumanSlices(one, ep.states[t].data(), &ep.complement_masks[t]);
    }
  }
  return report;
}

}  // namespace

absl::StatusOr<ComplementReport> AddComplements(UnifiedEpisode& episode, const ComplementOptions& options) {
  const int n = episode.num_frames();
  if (static_cast<int>(episode.masks.size()) != n) {
    return absl::InvalidArgumentError(absl::StrCat(episode.source, ": ", episode.masks.size(), " masks for ", n, " frames"));
  }
  // Recomputing: clear earlier complement values so states hold only the labelled slots.
  for (int t = 0; t < n && !episode.complement_masks.empty(); ++t) {
    for (int d = 0; d < action::kActionDim; ++d) {
      if (episode.complement_masks[t].test(d) && !episode.masks[t].test(d)) episode.states[t][d] = 0.0;
    }
  }
  episode.complement_masks.assign(n, ActionMask{});
  absl::StatusOr<ComplementReport> report = episode.embodiment == action::Embodiment::kHuman
                                                ? HumanComplements(episode, options)
                                                : RobotComplements(episode, options);
  if (!report.ok()) {
    episode.complement_masks.clear();
    const std::string msg(report.status().message());
    if (!episode.source.empty() && msg.rfind(episode.source, 0) != 0) {
      return absl::Status(report.status().code(), absl::StrCat(episode.source, ": complements: ", msg));
    }
  }
  return report;
}

absl::StatusOr<UnifiedEpisode> LoadEpisodeWithComplements(const std::string& path, const LoadOptions& load,
                                                          const ComplementOptions& options, ComplementReport* report) {
  ASSIGN_OR_RETURN(UnifiedEpisode ep, LoadUnifiedEpisode(path, load));
  ComplementReport local;
  ComplementReport* r = report != nullptr ? report : &local;
  if (options.cache_dir.empty()) {
    ASSIGN_OR_RETURN(*r, AddComplements(ep, options));
    return ep;
  }
  ASSIGN_OR_RETURN(std::string key, ComplementCacheKey(path, ep.embodiment, load, options));
  if (ReadCachedComplements(options.cache_dir, key, &ep, r)) {
    r->from_cache = true;
    return ep;
  }
  ASSIGN_OR_RETURN(*r, AddComplements(ep, options));
  r->from_cache = false;
  // A cache that cannot be written costs a recomputation next time, not a failed load.
  absl::Status written = WriteCachedComplements(options.cache_dir, key, ep, *r);
  if (!written.ok()) std::cerr << "warning: " << written.message() << "\n";
  return ep;
}

}  // namespace mivla::data
