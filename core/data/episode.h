// File: episode.h
// In-memory demonstrations, as a simulator fills them in and as the format readers return them.
// Plain structs (copyable values, no invariants enforced beyond ValidateEpisode); thread-compatible.
//
// Units and frames:
//  - lengths in metres, angles in radians, quaternions (w, x, y, z), time in seconds;
//  - images: RgbImage (image.h), 8-bit R, G, B, top row first;
//  - HumanEpisode (EgoDex): `transforms[joint][t]` is the 4x4 pose of an ARKit joint in the ARKit
//    world frame (right-handed, +y up), `transforms["camera"]` the egocentric camera's pose
//    (camera-to-world, the extrinsics); joint names as in EgoDex (egodex_format.h, kEgoDexJointNames);
//    `intrinsic` the pinhole matrix [[fx,0,cx],[0,fy,cy],[0,0,1]] in pixels of `frames`;
//  - RobotEpisode (RoboTwin): per arm, joint positions (rad, the arm's own order), gripper opening in
//    the embodiment's native unit (metres; radians for LocoMan's servo), end-effector pose in the world
//    frame as x, y, z, qw, qx, qy, qz. `arms[0]` is the left arm, `arms[1]` the right; a one-armed robot
//    (PiPER, ARX-5) fills the right arm only (docs/action-space.md).
//  - Every per-frame vector has num_frames() entries; camera `frames` may be empty (no images loaded).
#ifndef MIVLA_CORE_DATA_EPISODE_H_
#define MIVLA_CORE_DATA_EPISODE_H_

#include <array>
#include <map>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/status/status.h"
#include "core/action/action_space.h"
#include "core/data/image.h"

namespace mivla::data {

struct CameraStream {
  std::string name;                 // RoboTwin: head_camera, left_camera, right_camera; EgoDex: "camera"
  std::vector<RgbImage> frames;     // one per frame, or empty when images were not loaded
  int width = 0;                    // image size even when frames are not loaded
  int height = 0;
  bool has_calibration = false;     // intrinsic / cam2world valid
  Eigen::Matrix3d intrinsic = Eigen::Matrix3d::Identity();  // OpenCV convention, pixels
  Eigen::Matrix4d cam2world = Eigen::Matrix4d::Identity();  // camera (OpenCV axes) to world
};

struct HumanEpisode {
  double fps = 30.0;
  std::map<std::string, std::vector<Eigen::Matrix4d>> transforms;  // joint -> [T] world pose
  std::map<std::string, std::vector<double>> confidences;          // joint -> [T] in 0..1 (optional)
  Eigen::Matrix3d intrinsic = Eigen::Matrix3d::Identity();
  CameraStream video;  // the egocentric RGB video (name "camera"), aligned with the pose frames
  /// EgoDex description attributes: llm_description, llm_description2, which_llm_description,
  /// llm_type, llm_verbs, llm_objects, task, environment, object, session_name (all optional).
  std::map<std::string, std::string> attributes;

  int num_frames() const;
  /// The language description: llm_description2 when llm_type == "reversible" and
  /// which_llm_description == "2", else llm_description (else `task`, else "").
  std::string Instruction() const;
};

struct ArmTrack {
  bool present = false;
  std::vector<std::vector<double>> joints;      // [T][dof], rad (metres for a prismatic joint)
  std::vector<double> gripper;                  // [T], native unit (m, or rad for LocoMan)
  std::vector<std::array<double, 7>> endpose;   // [T] x, y, z, qw, qx, qy, qz; world frame
};

struct RobotEpisode {
  action::Embodiment embodiment = action::Embodiment::kAlohaAgilex;
  std::string task;                     // e.g. "move_bottle_pad"
  double control_hz = 15.0;
  std::array<ArmTrack, 2> arms;         // [0] left, [1] right
  std::vector<CameraStream> cameras;
  std::vector<std::string> instructions_seen;
  std::vector<std::string> instructions_unseen;

  int num_frames() const;
  ArmTrack& left() { return arms[0]; }
  ArmTrack& right() { return arms[1]; }
  /// The first seen instruction, else the first unseen one, else "".
  std::string Instruction() const;
};

/// Consistent lengths and sizes: every per-frame vector has num_frames() entries, images match their
/// stream's size, values are finite. The error names the field (e.g. "arms[1].gripper") and the reason.
absl::Status ValidateEpisode(const HumanEpisode& episode);
absl::Status ValidateEpisode(const RobotEpisode& episode);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_EPISODE_H_
