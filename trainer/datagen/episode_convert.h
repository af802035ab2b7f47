// File: episode_convert.h
// Turns a recorded simulator rollout (sim/rollout.h) into core/data's episode types, so that the one
// set of writers in core/data produces the files:
//  - robots -> data::RobotEpisode (RoboTwin 2.0 names: head_camera, left_camera, right_camera; arms by
//    side, arms[1] = right; joints rad, grippers in the native unit, end-effector poses in the world
//    as x, y, z, qw, qx, qy, qz; control_hz 25; the episode's instruction first among the seen ones);
//  - human  -> data::HumanEpisode (EgoDex: ARKit-frame transforms incl. `camera`, confidences, the
//    egocentric camera's intrinsics and video at 25 fps, description attributes).
// Camera calibration: core/data keeps one pose per camera stream, so only cameras fixed to the world
// (the head camera) get intrinsics and extrinsics; moving wrist cameras are written without them.
// Pure functions; thread-safe.
#ifndef MIVLA_TRAINER_DATAGEN_EPISODE_CONVERT_H_
#define MIVLA_TRAINER_DATAGEN_EPISODE_CONVERT_H_

#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "core/data/episode.h"
#include "sim/rollout.h"
#include "sim/sim_env.h"

namespace mivla::datagen {

/// What the converter needs to know about one simulator camera.
struct SceneCamera {
  std::string sim_name;      // e.g. "head", "r_wrist", "ego"
  std::string dataset_name;  // e.g. "head_camera", "right_camera", "camera"
  bool fixed = false;        // mounted on the world body (its pose never changes)
  Eigen::Matrix4d cam2world = Eigen::Matrix4d::Identity();  // OpenCV axes (x right, y down, z forward)
};

/// The rig's cameras in a freshly built scene, with dataset names and (for fixed cameras) poses.
std::vector<SceneCamera> DescribeCameras(const sim::SimEnv& env);

/// Robot rollout -> RobotEpisode. `cameras` from DescribeCameras on the same options' scene.
/// InvalidArgument when the episode is a human one, has no steps, or lacks a camera's images.
absl::StatusOr<data::RobotEpisode> ToRobotEpisode(const sim::Episode& episode, const std::vector<SceneCamera>& cameras);

/// Human rollout -> HumanEpisode (video from the "ego" camera). InvalidArgument for a robot episode,
/// no steps, or no egocentric images.
absl::StatusOr<data::HumanEpisode> ToHumanEpisode(const sim::Episode& episode);

/// x, y, z, qw, qx, qy, qz of a pose (the quaternion with qw >= 0).
std::array<double, 7> PoseToXyzQuat(const Eigen::Isometry3d& pose);

}  // namespace mivla::datagen

#endif  // MIVLA_TRAINER_DATAGEN_EPISODE_CONVERT_H_
