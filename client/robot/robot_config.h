// File: robot_config.h
// The per-embodiment configuration file of a robot client (client/config/<embodiment>.json): how the
// chunk's actions reach the robot (retargeting mode and the session's embodiment), chunk scheduling,
// the grasp latch (client/control/gripper_latch.h), safety limits, connection timeouts and backoff, the simulation
// driver's rates and the CAN interface. Every key is optional (defaults below); an unknown key, a wrong type or an
// out-of-range value is an InvalidArgument naming the file and the key.
//
//   {"embodiment": "piper",
//    "retarget": {"mode": "auto"},          (or joints / ik / human, with "session_embodiment")
//    "scheduler": {"blend": "weighted", "new_weight": 0.7, "refill_threshold": 0.5,
//                  "realtime_chunking": true},   (used when the server offers it; false: never)
//    "safety": {"position_margin_rad": 0.01, "velocity_scale": 1.0, "max_acceleration": 8.0,
//               "max_gripper_velocity": 0.2, "staleness_ms": 500,
//               "workspace": [[xmin, ymin, zmin, xmax, ymax, zmax]]},          (one box per arm)
//    "gripper": {"close_below": 0.05, "release_above": 0.05},   (the grasp latch, native units; off
//                                                               when close_below is absent)
//    "connection": {"rpc_timeout_ms": 2000, "connect_timeout_ms": 1000, "backoff_initial_ms": 50,
//                   "backoff_max_ms": 2000},
//    "sim": {"control_period_s": 0.04, "camera_period_s": 0.04, "real_time": true},
//    "piper_can": {"interface": "can0", "control_period_s": 0.04, "disable_on_stop": false}}
//
// Pure functions; thread-safe.
#ifndef MIVLA_CLIENT_ROBOT_ROBOT_CONFIG_H_
#define MIVLA_CLIENT_ROBOT_ROBOT_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/control/chunk_scheduler.h"
#include "client/control/gripper_latch.h"
#include "client/control/safety_layer.h"
#include "client/net/policy_connection.h"
#include "client/robot/embodiment_adapter.h"

namespace mivla::client {

struct RobotConfig {
  action::Embodiment embodiment = action::Embodiment::kPiper;
  AdapterOptions adapter;           // session_embodiment unset: the robot's own (or HUMAN for mode human)
  ChunkSchedulerOptions scheduler;
  SafetyOptions safety;
  GripperLatchOptions gripper;      // the grasp latch; off unless close_below is set
  ConnectionOptions connection;     // timeouts and backoff (the target comes from --server)
  double sim_control_period_s = 0.04;
  double sim_camera_period_s = 0.04;
  bool sim_real_time = true;
  std::string can_interface = "can0";
  double can_control_period_s = 0.04;  // piper_can.control_period_s: the hardware control period
  bool can_disable_on_stop = false;    // piper_can.disable_on_stop: an arm without brakes sinks when disabled
};

/// `source` names the file in errors.
absl::StatusOr<RobotConfig> ParseRobotConfig(const std::string& json_text, const std::string& source);
absl::StatusOr<RobotConfig> LoadRobotConfig(const std::string& path);
/// <repository>/client/config/<piper|arx5|locoman|aloha>.json (compiled in; $MIVLA_CLIENT_CONFIG_DIR wins).
std::string DefaultRobotConfigPath(action::Embodiment e);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_ROBOT_ROBOT_CONFIG_H_
