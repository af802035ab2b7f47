// mivla-kin: kinematics and retargeting for people debugging a robot.
//
//   mivla-kin fk --embodiment piper --joints j1,...,j6 [--arm right|left]
//       -> {"position":[x,y,z],"quaternion":[w,x,y,z]}  (metres, embodiment base frame)
//   mivla-kin ik --embodiment piper --pose x,y,z,qw,qx,qy,qz [--seed j1,...,j6] [--arm right|left]
//       -> {"joints":[...],"position_error_m":e,"rotation_error_rad":r}, or an error naming the residual
//   mivla-kin retarget --embodiment piper --input hands.csv [--output out.json] [--scale s]
//                      [--reference wrist|thumb_knuckle] [--absolute]
//       hands.csv: one frame per line, the 48-value human slice (left hand 24, right hand 24; an absent
//       hand is 24 zeros), optionally preceded by a timestamp (49 values); '#' lines are comments.
//       -> JSON with, per frame, each arm's joints, gripper and IK status.
// Common: --embodiment-dir DIR (default $MIVLA_EMBODIMENT_DIR or the source tree's data).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "core/action/rotation.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/kinematics/ik_solver.h"
#include "core/kinematics/transforms.h"
#include "core/retarget/hand_pose.h"
#include "core/retarget/human_to_robot.h"
#include "core/retarget/mapping_options.h"
#include "core/util/flag_parser.h"
#include "core/util/status_macros.h"

namespace {

using mivla::kinematics::ArmDescription;
using mivla::kinematics::EmbodimentDescription;
using mivla::kinematics::JointVector;
using mivla::kinematics::Side;

constexpr const char* kUsage =
    "usage:\n"
    "  mivla-kin fk --embodiment NAME --joints j1,...,j6 [--arm right|left]\n"
    "  mivla-kin ik --embodiment NAME --pose x,y,z,qw,qx,qy,qz [--seed j1,...,j6] [--arm right|left]\n"
    "  mivla-kin retarget --embodiment NAME --input FILE [--output FILE] [--scale S]\n"
    "                     [--reference wrist|thumb_knuckle] [--absolute]\n"
    "  common: --embodiment-dir DIR   embodiments: piper, arx5, locoman, aloha\n";

// Every command's flags; each command registers the ones it takes (RegisterFlags).
struct Flags {
  std::string embodiment;
  std::string embodiment_dir;
  std::string arm = "right";
  std::string joints;
  std::string pose;
  std::string seed;  // empty: the arm's home pose
  std::string input;
  std::string output;  // empty: stdout
  double scale = mivla::retarget::MappingOptions().position_scale;
  std::string reference = "thumb_knuckle";
  bool absolute = false;
};

// The flags of `cmd` (fk, ik, retarget) on `p`; false for an unknown command.
bool RegisterFlags(const std::string& cmd, Flags* f, mivla::FlagParser* p) {
  if (cmd != "fk" && cmd != "ik" && cmd != "retarget") return false;
  p->AddString("embodiment", &f->embodiment, "the robot: piper, arx5, locoman or aloha (required)", false);
  p->AddString("embodiment-dir", &f->embodiment_dir,
               "embodiment descriptions (default: $MIVLA_EMBODIMENT_DIR or the source tree's data)", false);
  if (cmd == "fk") p->AddString("joints", &f->joints, "joint angles j1,...,jN in rad (required)", false);
  if (cmd == "ik") {
    p->AddString("pose", &f->pose, "target x,y,z,qw,qx,qy,qz in the base frame (m; required)", false);
    p->AddString("seed", &f->seed, "joint angles to start from (default: the arm's home)", false);
  }
  if (cmd != "retarget") p->AddString("arm", &f->arm, "right or left");
  if (cmd == "retarget") {
    p->AddString("input", &f->input, "hands CSV, one frame per line (required)", false);
    p->AddString("output", &f->output, "write the JSON here (default: stdout)", false);
    p->AddDouble("scale", &f->scale, "robot motion = scale x human motion");
    p->AddString("reference", &f->reference, "hand point the wrist follows: wrist or thumb_knuckle");
    p->AddBool("absolute", &f->absolute, "map absolute hand positions instead of motion from the first frame");
  }
  return true;
}

absl::StatusOr<std::vector<double>> ParseNumbers(const std::string& flag, const std::string& text) {
  std::vector<double> out;
  for (absl::string_view tok : absl::StrSplit(text, absl::ByAnyChar(", \t"), absl::SkipEmpty())) {
    const std::string t(tok);
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (end == t.c_str() || *end != '\0') {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": '", t, "' is not a number"));
    }
    if (!std::isfinite(v)) return absl::InvalidArgumentError(absl::StrCat(flag, ": '", t, "' is not finite"));
    out.push_back(v);
  }
  return out;
}

absl::StatusOr<EmbodimentDescription> Embodiment(const Flags& f) {
  if (f.embodiment.empty()) return absl::InvalidArgumentError("--embodiment is required (piper, arx5, locoman, aloha)");
  ASSIGN_OR_RETURN(mivla::action::Embodiment tag, mivla::action::ParseEmbodiment(f.embodiment));
  if (!mivla::action::IsRobot(tag)) return absl::InvalidArgumentError("--embodiment must be a robot");
  return mivla::kinematics::LoadEmbodiment(tag, f.embodiment_dir);
}

absl::StatusOr<const ArmDescription*> Arm(const EmbodimentDescription& d, const Flags& f) {
  const std::string& side = f.arm;
  if (side != "right" && side != "left") return absl::InvalidArgumentError("--arm must be right or left");
  const ArmDescription* arm = d.FindArm(side == "left" ? Side::kLeft : Side::kRight);
  if (arm == nullptr) return absl::InvalidArgumentError(absl::StrCat(d.name, " has no ", side, " arm"));
  return arm;
}

absl::Status Joints(const ArmDescription& arm, const std::string& text, const std::string& flag, JointVector* q) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
  ASSIGN_OR_RETURN(std::vector<double> v, ParseNumbers("--" + flag, text));
  if (static_cast<int>(v.size()) != arm.chain.num_joints()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": expected ", arm.chain.num_joints(),
                                                   " joint values (rad) for ", arm.name, ", got ", v.size()));
  }
  q->resize(arm.chain.num_joints());
  for (int i = 0; i < arm.chain.num_joints(); ++i) (*q)[i] = v[static_cast<size_t>(i)];
  return absl::OkStatus();
}

void WarnLimits(const ArmDescription& arm, const JointVector& q) {
  for (int i = 0; i < q.size(); ++i) {
    if (q[i] < arm.chain.lower()[i] || q[i] > arm.chain.upper()[i]) {
      std::fprintf(stderr, "mivla-kin: warning: joint %d (%s) = %g is outside its limits [%g, %g]\n", i + 1,
                   arm.chain.joints()[i].name.c_str(), q[i], arm.chain.lower()[i], arm.chain.upper()[i]);
    }
  }
}

std::string Array(const double* v, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) absl::StrAppend(&s, i ? "," : "", absl::StrFormat("%.9g", v[i]));
  return s + "]";
}

std::string PoseJson(const Eigen::Isometry3d& t) {
  const mivla::action::QuatWxyz q = mivla::action::QuatFromMatrix(t.linear());
  return absl::StrCat("{\"position\":", Array(t.translation().data(), 3), ",\"quaternion\":", Array(q.data(), 4), "}");
}

absl::Status Fk(const Flags& f) {
  ASSIGN_OR_RETURN(EmbodimentDescription d, Embodiment(f));
  ASSIGN_OR_RETURN(const ArmDescription* arm, Arm(d, f));
  JointVector q;
  RETURN_IF_ERROR(Joints(*arm, f.joints, "joints", &q));
  WarnLimits(*arm, q);
  ASSIGN_OR_RETURN(Eigen::Isometry3d t, arm->chain.Forward(q));
  std::printf("%s\n", PoseJson(t).c_str());
  return absl::OkStatus();
}

absl::Status Ik(const Flags& f) {
  ASSIGN_OR_RETURN(EmbodimentDescription d, Embodiment(f));
  ASSIGN_OR_RETURN(const ArmDescription* arm, Arm(d, f));
  if (f.pose.empty()) return absl::InvalidArgumentError("--pose x,y,z,qw,qx,qy,qz is required");
  ASSIGN_OR_RETURN(std::vector<double> p, ParseNumbers("--pose", f.pose));
  if (p.size() != 7) return absl::InvalidArgumentError(absl::StrCat("--pose: expected 7 values x,y,z,qw,qx,qy,qz, got ", p.size()));
  ASSIGN_OR_RETURN(Eigen::Isometry3d target,
                   mivla::kinematics::PoseFromPositionQuat({p[0], p[1], p[2]}, {p[3], p[4], p[5], p[6]}));
  JointVector seed = arm->home;
  if (!f.seed.empty()) RETURN_IF_ERROR(Joints(*arm, f.seed, "seed", &seed));
  ASSIGN_OR_RETURN(mivla::kinematics::IkSolver ik, mivla::kinematics::IkSolver::Create(arm->chain, {}, arm->home));
  ASSIGN_OR_RETURN(mivla::kinematics::IkSolution s, ik.Solve(target, seed));
  std::printf("{\"joints\":%s,\"position_error_m\":%.3g,\"rotation_error_rad\":%.3g}\n",
              Array(s.joints.data(), static_cast<int>(s.joints.size())).c_str(), s.position_error_m,
              s.rotation_error_rad);
  return absl::OkStatus();
}

absl::Status Retarget(const Flags& f) {
  ASSIGN_OR_RETURN(EmbodimentDescription d, Embodiment(f));
  ASSIGN_OR_RETURN(mivla::kinematics::HandDescription hand, mivla::kinematics::LoadHandDescription(f.embodiment_dir));
  mivla::retarget::HumanToRobotMapper::Options o;
  if (!std::isfinite(f.scale)) return absl::InvalidArgumentError(absl::StrCat("--scale: ", f.scale, " is not finite"));
  o.mapping.position_scale = f.scale;
  if (f.reference == "thumb_knuckle") {
    o.mapping.reference = mivla::retarget::ReferencePoint::kThumbKnuckle;
  } else if (f.reference == "wrist") {
    o.mapping.reference = mivla::retarget::ReferencePoint::kWrist;
  } else {
    return absl::InvalidArgumentError("--reference must be wrist or thumb_knuckle");
  }
  if (f.absolute) o.mapping.mode = mivla::retarget::MappingMode::kAbsolute;
  if (f.input.empty()) return absl::InvalidArgumentError("--input FILE is required");
  std::ifstream in(f.input);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open --input '", f.input, "'"));
  ASSIGN_OR_RETURN(mivla::retarget::HumanToRobotMapper mapper,
                   mivla::retarget::HumanToRobotMapper::Create(d, hand, o));

  std::string out = absl::StrCat("{\"embodiment\":\"", d.name, "\",\"frames\":[");
  std::string line;
  int line_no = 0, frames = 0, failures = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const absl::string_view body = absl::StripAsciiWhitespace(line);
    if (body.empty() || body[0] == '#') continue;
    const std::string where = absl::StrCat(f.input, ":", line_no);
    ASSIGN_OR_RETURN(std::vector<double> v, ParseNumbers(where, std::string(body)));
    if (v.size() != 48 && v.size() != 49) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": expected 48 values (or a timestamp + 48), got ", v.size()));
    }
    const double t = v.size() == 49 ? v[0] : frames;
    mivla::retarget::Human48 h;
    std::copy(v.end() - 48, v.end(), h.begin());
    absl::StatusOr<mivla::retarget::HumanHands> hands = mivla::retarget::HandsFromHuman48(h);
    if (!hands.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", hands.status().message()));
    if (frames == 0) {
      absl::Status s = mapper.Reset(*hands);
      if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
    }
    ASSIGN_OR_RETURN(std::vector<mivla::retarget::ArmCommand> cmds, mapper.Step(*hands));
    absl::StrAppend(&out, frames ? "," : "", "\n  {\"t\":", absl::StrFormat("%.9g", t), ",\"arms\":[");
    for (size_t a = 0; a < cmds.size(); ++a) {
      const auto& c = cmds[a];
      const bool ok = c.hand_present && c.ik_status.ok();
      failures += c.hand_present && !c.ik_status.ok();
      absl::StrAppend(&out, a ? "," : "", "{\"side\":\"", mivla::kinematics::SideName(c.side), "\",\"joints\":",
                      Array(c.joints.data(), static_cast<int>(c.joints.size())), ",\"gripper\":",
                      absl::StrFormat("%.9g", c.gripper), ",\"ok\":", ok ? "true" : "false");
      if (!c.hand_present) absl::StrAppend(&out, ",\"error\":\"no hand in this frame; joints held\"");
      if (!c.ik_status.ok()) absl::StrAppend(&out, ",\"error\":\"", c.ik_status.message(), "; joints held\"");
      absl::StrAppend(&out, "}");
    }
    absl::StrAppend(&out, "]}");
    ++frames;
  }
  if (frames == 0) return absl::InvalidArgumentError(absl::StrCat("--input '", f.input, "' has no frames"));
  absl::StrAppend(&out, "\n],\"num_frames\":", frames, ",\"ik_failures\":", failures, "}\n");
  if (!f.output.empty()) {
    std::ofstream o_file(f.output);
    if (!(o_file << out)) return absl::InternalError(absl::StrCat("cannot write --output '", f.output, "'"));
  } else {
    std::fputs(out.c_str(), stdout);
  }
  if (failures > 0) std::fprintf(stderr, "mivla-kin retarget: %d arm-frame(s) unreachable (see \"error\")\n", failures);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "help" || std::string(argv[1]) == "--help") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  Flags flags;
  mivla::FlagParser parser(absl::StrCat("mivla-kin ", cmd, " [flags]"));
  absl::Status s;
  std::string hint;  // only for usage errors, not for what the command found wrong with its input
  if (!RegisterFlags(cmd, &flags, &parser)) {
    s = absl::InvalidArgumentError(absl::StrCat("unknown command '", cmd, "' (fk, ik, retarget)"));
    hint = "run 'mivla-kin help' for usage";
  } else if (absl::StatusOr<bool> helped = parser.ParseFlagsOrPrintHelp(argc - 1, argv + 1); !helped.ok()) {
    s = helped.status();
    hint = absl::StrCat("run 'mivla-kin ", cmd, " --help' for its flags");
  } else if (*helped) {
    return 0;
  } else if (cmd == "fk") {
    s = Fk(flags);
  } else if (cmd == "ik") {
    s = Ik(flags);
  } else {
    s = Retarget(flags);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "mivla-kin %s: %s\n", cmd.c_str(), std::string(s.message()).c_str());
    if (!hint.empty()) std::fprintf(stderr, "%s\n", hint.c_str());
    return hint.empty() ? 1 : 2;
  }
  return 0;
}
