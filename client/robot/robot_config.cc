// File: robot_config.cc
#include "client/robot/robot_config.h"

#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"
#include "nlohmann/json.hpp"

#ifndef MIVLA_CLIENT_CONFIG_DIR
#define MIVLA_CLIENT_CONFIG_DIR "client/config"
#endif

namespace mivla::client {
namespace {

using Json = nlohmann::json;

// Reads keys of one JSON object, refusing unknown ones and wrong types.
class Reader {
 public:
  Reader(const Json& j, std::string path, const std::string& source) : j_(j), path_(std::move(path)), source_(source) {}

  absl::Status Check(const std::set<std::string>& known) const {
    if (!j_.is_object()) return Error(path_.empty() ? "(top level)" : path_, "is not a JSON object");
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (known.count(it.key()) == 0) return Error(Key(it.key()), "unknown key");
    }
    return absl::OkStatus();
  }
  absl::Status Number(const std::string& k, double* v, double lo, double hi) const {
    if (!j_.contains(k)) return absl::OkStatus();
    if (!j_[k].is_number()) return Error(Key(k), "is not a number");
    const double x = j_[k].get<double>();
    if (!(x >= lo && x <= hi)) return Error(Key(k), absl::StrCat(x, " is outside [", lo, ", ", hi, "]"));
    *v = x;
    return absl::OkStatus();
  }
  absl::Status Int(const std::string& k, int64_t* v, int64_t lo, int64_t hi) const {
    double d = static_cast<double>(*v);
    RETURN_IF_ERROR(Number(k, &d, static_cast<double>(lo), static_cast<double>(hi)));
    if (j_.contains(k) && d != std::floor(d)) return Error(Key(k), "is not an integer");
    *v = static_cast<int64_t>(d);
    return absl::OkStatus();
  }
  absl::Status Bool(const std::string& k, bool* v) const {
    if (!j_.contains(k)) return absl::OkStatus();
    if (!j_[k].is_boolean()) return Error(Key(k), "is not true or false");
    *v = j_[k].get<bool>();
    return absl::OkStatus();
  }
  absl::Status String(const std::string& k, std::string* v) const {
    if (!j_.contains(k)) return absl::OkStatus();
    if (!j_[k].is_string()) return Error(Key(k), "is not a string");
    *v = j_[k].get<std::string>();
    return absl::OkStatus();
  }
  bool Has(const std::string& k) const { return j_.contains(k); }
  Reader Child(const std::string& k) const { return Reader(j_[k], Key(k), source_); }
  const Json& json() const { return j_; }
  std::string Key(const std::string& k) const { return path_.empty() ? k : absl::StrCat(path_, ".", k); }
  absl::Status Error(const std::string& key, const std::string& why) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", key, ": ", why));
  }

 private:
  const Json& j_;
  std::string path_;
  const std::string& source_;
};

absl::Status ParseEmbodimentKey(const Reader& r, const std::string& key, action::Embodiment* e) {
  std::string name;
  RETURN_IF_ERROR(r.String(key, &name));
  if (name.empty()) return absl::OkStatus();
  absl::StatusOr<action::Embodiment> parsed = action::ParseEmbodiment(name);
  if (!parsed.ok()) return r.Error(r.Key(key), std::string(parsed.status().message()));
  *e = *parsed;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RobotConfig> ParseRobotConfig(const std::string& json_text, const std::string& source) {
  Json j = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(source, ": not valid JSON"));
  RobotConfig c;
  Reader top(j, "", source);
  RETURN_IF_ERROR(top.Check(
      {"embodiment", "retarget", "scheduler", "safety", "gripper", "connection", "sim", "piper_can", "comment"}));
  RETURN_IF_ERROR(ParseEmbodimentKey(top, "embodiment", &c.embodiment));
  if (top.Has("retarget")) {
    Reader r = top.Child("retarget");
    RETURN_IF_ERROR(r.Check({"mode", "session_embodiment", "position_scale"}));
    std::string mode = "joints";
    RETURN_IF_ERROR(r.String("mode", &mode));
    absl::StatusOr<RetargetMode> m = ParseRetargetMode(mode);
    if (!m.ok()) return r.Error(r.Key("mode"), std::string(m.status().message()));
    c.adapter.mode = *m;
    if (r.Has("session_embodiment")) {
      action::Embodiment s = c.embodiment;
      RETURN_IF_ERROR(ParseEmbodimentKey(r, "session_embodiment", &s));
      c.adapter.session_embodiment = s;
    }
    RETURN_IF_ERROR(r.Number("position_scale", &c.adapter.mapping.position_scale, 0.01, 100));
  }
  if (top.Has("scheduler")) {
    Reader r = top.Child("scheduler");
    RETURN_IF_ERROR(r.Check({"blend", "new_weight", "refill_threshold", "tolerance_us", "realtime_chunking"}));
    RETURN_IF_ERROR(r.Bool("realtime_chunking", &c.scheduler.realtime_chunking));
    std::string blend = "weighted";
    RETURN_IF_ERROR(r.String("blend", &blend));
    if (blend == "weighted") {
      c.scheduler.blend = BlendMode::kWeighted;
    } else if (blend == "latest_only") {
      c.scheduler.blend = BlendMode::kLatestOnly;
    } else {
      return r.Error(r.Key("blend"), absl::StrCat("'", blend, "': want weighted or latest_only"));
    }
    RETURN_IF_ERROR(r.Number("new_weight", &c.scheduler.new_weight, 0, 1));
    RETURN_IF_ERROR(r.Number("refill_threshold", &c.scheduler.refill_threshold, 0, 1));
    RETURN_IF_ERROR(r.Int("tolerance_us", &c.scheduler.tolerance_us, -1, 10000000));
  }
  if (top.Has("safety")) {
    Reader r = top.Child("safety");
    RETURN_IF_ERROR(r.Check({"position_margin_rad", "velocity_scale", "max_acceleration", "max_gripper_velocity",
                             "staleness_ms", "workspace"}));
    RETURN_IF_ERROR(r.Number("position_margin_rad", &c.safety.position_margin_rad, 0, 0.5));
    RETURN_IF_ERROR(r.Number("velocity_scale", &c.safety.velocity_scale, 1e-3, 1));
    RETURN_IF_ERROR(r.Number("max_acceleration", &c.safety.max_acceleration, 1e-3, 1000));
    RETURN_IF_ERROR(r.Number("max_gripper_velocity", &c.safety.max_gripper_velocity, 1e-4, 100));
    int64_t stale_ms = c.safety.staleness_us / 1000;
    RETURN_IF_ERROR(r.Int("staleness_ms", &stale_ms, 1, 60000));
    c.safety.staleness_us = stale_ms * 1000;
    if (r.Has("workspace")) {
      const Json& w = r.json()["workspace"];
      if (!w.is_array()) return r.Error(r.Key("workspace"), "is not a list of boxes");
      for (size_t i = 0; i < w.size(); ++i) {
        const std::string key = absl::StrCat(r.Key("workspace"), "[", i, "]");
        if (!w[i].is_array() || w[i].size() != 6) return r.Error(key, "want [xmin, ymin, zmin, xmax, ymax, zmax]");
        double v[6];
        for (int k = 0; k < 6; ++k) {
          if (!w[i][k].is_number()) return r.Error(key, "is not 6 numbers");
          v[k] = w[i][k].get<double>();
        }
        if (!(v[0] < v[3] && v[1] < v[4] && v[2] < v[5])) return r.Error(key, "min must be below max on every axis");
        c.safety.workspace.emplace_back(Eigen::Vector3d(v[0], v[1], v[2]), Eigen::Vector3d(v[3], v[4], v[5]));
      }
    }
  }
  if (top.Has("gripper")) {
    Reader r = top.Child("gripper");
    RETURN_IF_ERROR(r.Check({"close_below", "release_above"}));
    auto threshold = [&r](const std::string& k, std::optional<double>* out) -> absl::Status {
      if (!r.Has(k)) return absl::OkStatus();
      double v = 0;
      RETURN_IF_ERROR(r.Number(k, &v, -1000, 1000));
      *out = v;
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(threshold("close_below", &c.gripper.close_below));
    RETURN_IF_ERROR(threshold("release_above", &c.gripper.release_above));
    // The thresholds against the robot's gripper ranges (GripperLatch::Create names the key).
    absl::StatusOr<kinematics::EmbodimentDescription> robot = kinematics::LoadEmbodiment(c.embodiment);
    if (!robot.ok()) return WithPrefix(robot.status(), absl::StrCat(source, ": gripper: "));
    absl::StatusOr<GripperLatch> latch = GripperLatch::Create(*robot, c.gripper);
    if (!latch.ok()) return WithPrefix(latch.status(), absl::StrCat(source, ": "));
  }
  if (top.Has("connection")) {
    Reader r = top.Child("connection");
    RETURN_IF_ERROR(r.Check({"rpc_timeout_ms", "connect_timeout_ms", "backoff_initial_ms", "backoff_max_ms"}));
    RETURN_IF_ERROR(r.Int("rpc_timeout_ms", &c.connection.rpc_timeout_ms, 1, 600000));
    RETURN_IF_ERROR(r.Int("connect_timeout_ms", &c.connection.connect_timeout_ms, 1, 600000));
    RETURN_IF_ERROR(r.Int("backoff_initial_ms", &c.connection.backoff.initial_ms, 1, 600000));
    RETURN_IF_ERROR(r.Int("backoff_max_ms", &c.connection.backoff.max_ms, 1, 600000));
    if (c.connection.backoff.max_ms < c.connection.backoff.initial_ms) {
      return r.Error(r.Key("backoff_max_ms"), "is below backoff_initial_ms");
    }
  }
  if (top.Has("sim")) {
    Reader r = top.Child("sim");
    RETURN_IF_ERROR(r.Check({"control_period_s", "camera_period_s", "real_time"}));
    RETURN_IF_ERROR(r.Number("control_period_s", &c.sim_control_period_s, 0.002, 1));
    RETURN_IF_ERROR(r.Number("camera_period_s", &c.sim_camera_period_s, 0, 10));
    RETURN_IF_ERROR(r.Bool("real_time", &c.sim_real_time));
  }
  if (top.Has("piper_can")) {
    Reader r = top.Child("piper_can");
    RETURN_IF_ERROR(r.Check({"interface", "control_period_s", "disable_on_stop"}));
    RETURN_IF_ERROR(r.String("interface", &c.can_interface));
    RETURN_IF_ERROR(r.Number("control_period_s", &c.can_control_period_s, 0.002, 1));
    RETURN_IF_ERROR(r.Bool("disable_on_stop", &c.can_disable_on_stop));
  }
  return c;
}

absl::StatusOr<RobotConfig> LoadRobotConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return WithPrefix(text.status(), "config file: ");
  return ParseRobotConfig(*text, path);
}

std::string DefaultRobotConfigPath(action::Embodiment e) {
  const char* env = std::getenv("MIVLA_CLIENT_CONFIG_DIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : MIVLA_CLIENT_CONFIG_DIR;
  std::string name;
  switch (e) {
    case action::Embodiment::kPiper: name = "piper"; break;
    case action::Embodiment::kArx5: name = "arx5"; break;
    case action::Embodiment::kLocoman: name = "locoman"; break;
    case action::Embodiment::kAlohaAgilex: name = "aloha"; break;
    case action::Embodiment::kHuman: name = "human"; break;
  }
  return absl::StrCat(dir, "/", name, ".json");
}

}  // namespace mivla::client
