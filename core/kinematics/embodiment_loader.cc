#include "core/kinematics/embodiment_loader.h"

#include <cmath>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/kinematics/transforms.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

#ifndef MIVLA_EMBODIMENT_SOURCE_DIR
#define MIVLA_EMBODIMENT_SOURCE_DIR "core/kinematics/embodiments"
#endif

namespace mivla::kinematics {
namespace {

using nlohmann::json;
constexpr double kDeg = 3.14159265358979323846 / 180.0;

absl::Status Bad(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

absl::StatusOr<double> Number(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) return Bad(where, absl::StrCat("missing \"", key, "\""));
  if (!j.at(key).is_number()) return Bad(where, absl::StrCat("\"", key, "\" must be a number"));
  const double v = j.at(key).get<double>();
  if (!std::isfinite(v)) return Bad(where, absl::StrCat("\"", key, "\" is not finite"));
  return v;
}

double NumberOr(const json& j, const char* key, double fallback) {
  return j.contains(key) && j.at(key).is_number() ? j.at(key).get<double>() : fallback;
}

absl::StatusOr<Eigen::Vector3d> Vec3(const json& j, const std::string& where) {
  if (!j.is_array() || j.size() != 3) return Bad(where, "expected an array of 3 numbers");
  Eigen::Vector3d v;
  for (int i = 0; i < 3; ++i) {
    if (!j[i].is_number()) return Bad(where, "expected an array of 3 numbers");
    v[i] = j[i].get<double>();
  }
  if (!v.allFinite()) return Bad(where, "values must be finite");
  return v;
}

absl::StatusOr<Eigen::Isometry3d> XyzRpy(const json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "expected {\"xyz\": [...], \"rpy\": [...]}");
  Eigen::Vector3d xyz = Eigen::Vector3d::Zero(), rpy = Eigen::Vector3d::Zero();
  if (j.contains("xyz")) { ASSIGN_OR_RETURN(xyz, Vec3(j.at("xyz"), where + ".xyz")); }
  if (j.contains("rpy")) { ASSIGN_OR_RETURN(rpy, Vec3(j.at("rpy"), where + ".rpy")); }
  return PoseFromXyzRpy(xyz, rpy);
}

absl::StatusOr<Eigen::Matrix3d> Rotation(const json& j, const std::string& where) {
  if (!j.is_array() || j.size() != 3) return Bad(where, "expected a 3x3 matrix (3 rows)");
  Eigen::Matrix3d m;
  for (int r = 0; r < 3; ++r) {
    ASSIGN_OR_RETURN(Eigen::Vector3d row, Vec3(j[r], absl::StrCat(where, " row ", r)));
    m.row(r) = row.transpose();
  }
  if ((m.transpose() * m - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff() > 1e-6 ||
      std::abs(m.determinant() - 1.0) > 1e-6) {
    return Bad(where, "matrix is not a proper rotation (orthonormal, det +1)");
  }
  return m;
}

absl::StatusOr<JointSpec> ParseJoint(const json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "joint must be an object");
  JointSpec s;
  s.name = j.value("name", "");
  ASSIGN_OR_RETURN(s.lower, Number(j, "lower", where));
  ASSIGN_OR_RETURN(s.upper, Number(j, "upper", where));
  s.max_velocity = NumberOr(j, "velocity", 0.0);
  const std::string type = j.value("type", "revolute");
  if (type == "prismatic") {
    s.type = JointType::kPrismatic;
  } else if (type != "revolute") {
    return Bad(where, absl::StrCat("unknown joint type '", type, "'"));
  }
  if (j.contains("dh")) {
    const json& dh = j.at("dh");
    const std::string w = where + ".dh";
    ASSIGN_OR_RETURN(double a, Number(dh, "a", w));
    ASSIGN_OR_RETURN(double d, Number(dh, "d", w));
    const double alpha = dh.contains("alpha_deg") ? NumberOr(dh, "alpha_deg", 0.0) * kDeg : NumberOr(dh, "alpha", 0.0);
    s.offset = dh.contains("theta_offset_deg") ? NumberOr(dh, "theta_offset_deg", 0.0) * kDeg
                                               : NumberOr(dh, "theta_offset", 0.0);
    s.origin = PoseFromModifiedDh(a, alpha, d);
    s.axis = Eigen::Vector3d::UnitZ();
  } else {
    if (!j.contains("origin") || !j.contains("axis")) return Bad(where, "needs \"dh\" or \"origin\" + \"axis\"");
    ASSIGN_OR_RETURN(s.origin, XyzRpy(j.at("origin"), where + ".origin"));
    ASSIGN_OR_RETURN(s.axis, Vec3(j.at("axis"), where + ".axis"));
    s.offset = NumberOr(j, "offset", 0.0);
  }
  return s;
}

absl::StatusOr<ArmDescription> ParseArm(const json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "arm must be an object");
  ArmDescription arm;
  arm.name = j.value("name", "");
  const std::string side = j.value("side", "");
  if (side == "left") {
    arm.side = Side::kLeft;
  } else if (side == "right") {
    arm.side = Side::kRight;
  } else {
    return Bad(where, "\"side\" must be \"left\" or \"right\"");
  }
  KinematicChain::Options o;
  o.name = arm.name;
  if (j.contains("base")) { ASSIGN_OR_RETURN(o.base, XyzRpy(j.at("base"), where + ".base")); }
  if (j.contains("tool")) { ASSIGN_OR_RETURN(o.tool, XyzRpy(j.at("tool"), where + ".tool")); }
  if (!j.contains("joints") || !j.at("joints").is_array()) return Bad(where, "missing \"joints\" array");
  for (size_t i = 0; i < j.at("joints").size(); ++i) {
    ASSIGN_OR_RETURN(JointSpec s, ParseJoint(j.at("joints")[i], absl::StrCat(where, ".joints[", i, "]")));
    o.joints.push_back(std::move(s));
  }
  ASSIGN_OR_RETURN(arm.chain, KinematicChain::Create(std::move(o)));
  if (!j.contains("gripper")) return Bad(where, "missing \"gripper\"");
  ASSIGN_OR_RETURN(arm.gripper.min_m, Number(j.at("gripper"), "min", where + ".gripper"));
  ASSIGN_OR_RETURN(arm.gripper.max_m, Number(j.at("gripper"), "max", where + ".gripper"));
  arm.gripper.max_velocity = NumberOr(j.at("gripper"), "velocity", 0.0);
  arm.gripper.units = j.at("gripper").value("units", "m");
  if (arm.gripper.max_m <= arm.gripper.min_m) return Bad(where, "gripper max must exceed min");
  const int n = arm.chain.num_joints();
  arm.home = JointVector::Zero(n);
  if (j.contains("home")) {
    const json& h = j.at("home");
    if (!h.is_array() || static_cast<int>(h.size()) != n) return Bad(where, absl::StrCat("\"home\" needs ", n, " values"));
    for (int i = 0; i < n; ++i) arm.home[i] = h[i].get<double>();
  }
  arm.home = arm.chain.Clamp(arm.home);
  if (j.contains("retarget")) {
    const json& r = j.at("retarget");
    if (r.contains("human_to_base")) {
      ASSIGN_OR_RETURN(arm.retarget.human_to_base, Rotation(r.at("human_to_base"), where + ".retarget.human_to_base"));
    }
    if (r.contains("ee_in_hand")) {
      ASSIGN_OR_RETURN(arm.retarget.ee_in_hand, Rotation(r.at("ee_in_hand"), where + ".retarget.ee_in_hand"));
    }
  }
  return arm;
}

absl::StatusOr<HandDescription> ParseHand(const json& j, const std::string& where) {
  HandDescription h;
  ASSIGN_OR_RETURN(h.hand_length_m, Number(j, "hand_length_m", where));
  ASSIGN_OR_RETURN(h.hand_breadth_m, Number(j, "hand_breadth_m", where));
  if (!j.contains("finger_lengths_m")) return Bad(where, "missing \"finger_lengths_m\"");
  const char* fingers[5] = {"thumb", "index", "middle", "ring", "little"};
  for (int i = 0; i < 5; ++i) {
    ASSIGN_OR_RETURN(h.finger_length_m[i], Number(j.at("finger_lengths_m"), fingers[i], where + ".finger_lengths_m"));
    if (h.finger_length_m[i] <= 0) return Bad(where, "finger lengths must be positive");
  }
  ASSIGN_OR_RETURN(h.thumb_knuckle_m, Vec3(j.value("thumb_knuckle_right_m", json()), where + ".thumb_knuckle_right_m"));
  ASSIGN_OR_RETURN(h.pinch_closed_m, Number(j, "pinch_closed_m", where));
  ASSIGN_OR_RETURN(h.pinch_open_m, Number(j, "pinch_open_m", where));
  ASSIGN_OR_RETURN(double flex_deg, Number(j, "closed_flexion_deg", where));
  h.closed_flexion_rad = flex_deg * kDeg;
  ASSIGN_OR_RETURN(h.pinch_direction, Vec3(j.value("pinch_direction_right", json()), where + ".pinch_direction_right"));
  if (h.pinch_direction.norm() < 1e-9) return Bad(where, "pinch direction is zero");
  h.pinch_direction.normalize();
  ASSIGN_OR_RETURN(Eigen::Vector3d m, Vec3(j.value("left_mirror_diagonal", json::array({-1, 1, 1})),
                                           where + ".left_mirror_diagonal"));
  h.left_mirror = m.asDiagonal();
  if (std::abs(std::abs(h.left_mirror.determinant()) - 1.0) > 1e-9) return Bad(where, "left mirror must be +-1 entries");
  if (h.pinch_open_m <= h.pinch_closed_m || h.hand_length_m <= h.finger_length_m[2]) {
    return Bad(where, "need pinch_open_m > pinch_closed_m and hand length > middle finger length");
  }
  return h;
}

}  // namespace

std::string DefaultEmbodimentDir() {
  const char* env = std::getenv("MIVLA_EMBODIMENT_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  return MIVLA_EMBODIMENT_SOURCE_DIR;
}

std::string EmbodimentFileName(action::Embodiment tag) {
  switch (tag) {
    case action::Embodiment::kHuman: return "human.json";
    case action::Embodiment::kAlohaAgilex: return "aloha_agilex.json";
    case action::Embodiment::kPiper: return "piper.json";
    case action::Embodiment::kArx5: return "arx5.json";
    case action::Embodiment::kLocoman: return "locoman.json";
  }
  return "unknown.json";
}

absl::StatusOr<EmbodimentDescription> ParseEmbodimentJson(const std::string& text,
                                                          const std::string& source_name) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return Bad(source_name, absl::StrCat("not valid JSON: ", e.what()));
  }
  if (!j.is_object()) return Bad(source_name, "top level must be an object");
  try {
    EmbodimentDescription d;
    const std::string tag = j.value("embodiment", "");
    ASSIGN_OR_RETURN(d.tag, action::ParseEmbodiment(tag));
    d.name = std::string(action::EmbodimentName(d.tag));
    d.description = j.value("description", "");
    if (j.contains("sources")) {
      for (const json& s : j.at("sources")) d.sources.push_back(s.get<std::string>());
    }
    if (j.contains("arms")) {
      for (size_t i = 0; i < j.at("arms").size(); ++i) {
        ASSIGN_OR_RETURN(ArmDescription arm, ParseArm(j.at("arms")[i], absl::StrCat(source_name, ": arms[", i, "]")));
        if (d.FindArm(arm.side) != nullptr) return Bad(source_name, "two arms on the same side");
        d.arms.push_back(std::move(arm));
      }
    }
    if (j.contains("hand")) {
      ASSIGN_OR_RETURN(d.hand, ParseHand(j.at("hand"), source_name + ": hand"));
      d.has_hand = true;
    }
    if (action::IsRobot(d.tag) && static_cast<int>(d.arms.size()) != action::NumArms(d.tag)) {
      return Bad(source_name, absl::StrCat(d.name, " needs ", action::NumArms(d.tag), " arm(s), file has ", d.arms.size()));
    }
    if (!action::IsRobot(d.tag) && !d.has_hand) return Bad(source_name, "the human needs a \"hand\" section");
    return d;
  } catch (const json::exception& e) {
    return Bad(source_name, absl::StrCat("unexpected value type: ", e.what()));
  }
}

absl::StatusOr<EmbodimentDescription> LoadEmbodimentFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("embodiment file: ", text.status().message(),
                                     " (set MIVLA_EMBODIMENT_DIR or pass the directory explicitly)"));
  }
  return ParseEmbodimentJson(*text, path);
}

absl::StatusOr<EmbodimentDescription> LoadEmbodiment(action::Embodiment tag, const std::string& dir) {
  const std::string base = dir.empty() ? DefaultEmbodimentDir() : dir;
  ASSIGN_OR_RETURN(EmbodimentDescription d, LoadEmbodimentFile(base + "/" + EmbodimentFileName(tag)));
  if (d.tag != tag) {
    return absl::InvalidArgumentError(absl::StrCat(EmbodimentFileName(tag), " describes ", d.name, ", expected ",
                                                   std::string(action::EmbodimentName(tag))));
  }
  return d;
}

absl::StatusOr<HandDescription> LoadHandDescription(const std::string& dir) {
  ASSIGN_OR_RETURN(EmbodimentDescription d, LoadEmbodiment(action::Embodiment::kHuman, dir));
  return d.hand;
}

}  // namespace mivla::kinematics
