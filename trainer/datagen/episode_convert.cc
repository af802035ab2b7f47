// File: episode_convert.cc
#include "trainer/datagen/episode_convert.h"

#include <algorithm>

#include "Eigen/Geometry"
#include "absl/strings/str_cat.h"
#include "sim/task.h"

namespace mivla::datagen {
namespace {

data::RgbImage ToRgb(const sim::Image& img) {
  data::RgbImage out;
  out.width = img.width;
  out.height = img.height;
  out.rgb = img.rgb;
  return out;
}

Eigen::Matrix3d IntrinsicMatrix(const sim::Intrinsics& k) {
  Eigen::Matrix3d m;
  m << k.fx, 0, k.cx, 0, k.fy, k.cy, 0, 0, 1;
  return m;
}

int CameraIndex(const sim::Episode& episode, const std::string& name) {
  for (size_t i = 0; i < episode.cameras.size(); ++i) {
    if (episode.cameras[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

absl::Status CheckFrames(const sim::Episode& episode, int camera) {
  for (size_t t = 0; t < episode.steps.size(); ++t) {
    if (static_cast<int>(episode.steps[t].images.size()) <= camera) {
      return absl::InvalidArgumentError(absl::StrCat("episode step ", t, " has no image of camera '",
                                                     episode.cameras[camera].name, "' (render the rollout)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::array<double, 7> PoseToXyzQuat(const Eigen::Isometry3d& pose) {
  Eigen::Quaterniond q(pose.linear());
  q.normalize();
  if (q.w() < 0) q.coeffs() *= -1.0;
  const Eigen::Vector3d p = pose.translation();
  return {p.x(), p.y(), p.z(), q.w(), q.x(), q.y(), q.z()};
}

std::vector<SceneCamera> DescribeCameras(const sim::SimEnv& env) {
  const mjModel* m = env.model();
  const mjData* d = env.data();
  const sim::Rig& rig = env.rig();
  std::vector<SceneCamera> out;
  for (const std::string& name : rig.cameras) {
    SceneCamera cam;
    cam.sim_name = name;
    if (name == "ego") {
      cam.dataset_name = "camera";
    } else if (name == "head") {
      cam.dataset_name = "head_camera";
    } else {
      cam.dataset_name = name;
      for (const sim::Effector& eff : rig.effectors) {
        if (name == eff.prefix + "wrist") {
          cam.dataset_name = eff.side == kinematics::Side::kLeft ? "left_camera" : "right_camera";
        }
      }
    }
    const int id = mj_name2id(m, mjOBJ_CAMERA, name.c_str());
    if (id >= 0) {
      cam.fixed = m->cam_bodyid[id] == 0;
      Eigen::Matrix4d c = Eigen::Matrix4d::Identity();
      for (int r = 0; r < 3; ++r) {
        c(r, 3) = d->cam_xpos[3 * id + r];
        for (int k = 0; k < 3; ++k) c(r, k) = d->cam_xmat[9 * id + 3 * r + k];
      }
      // MuJoCo cameras look along -z with +y up; OpenCV looks along +z with +y down.
      cam.cam2world = c * Eigen::Vector4d(1, -1, -1, 1).asDiagonal();
    }
    out.push_back(cam);
  }
  return out;
}

absl::StatusOr<data::RobotEpisode> ToRobotEpisode(const sim::Episode& episode, const std::vector<SceneCamera>& cameras) {
  if (episode.embodiment == action::Embodiment::kHuman) {
    return absl::InvalidArgumentError("ToRobotEpisode: a human episode");
  }
  if (episode.steps.empty()) return absl::InvalidArgumentError("ToRobotEpisode: the episode has no recorded steps");
  data::RobotEpisode out;
  out.embodiment = episode.embodiment;
  out.task = episode.task;
  out.control_hz = 1.0 / sim::kControlDt;
  for (const sim::ArmRecord& arm : episode.steps.front().arms) {
    out.arms[arm.side == kinematics::Side::kLeft ? 0 : 1].present = true;
  }
  for (const sim::StepRecord& step : episode.steps) {
    for (const sim::ArmRecord& arm : step.arms) {
      data::ArmTrack& track = out.arms[arm.side == kinematics::Side::kLeft ? 0 : 1];
      track.joints.push_back(arm.joints);
      track.gripper.push_back(arm.gripper_native);
      track.endpose.push_back(PoseToXyzQuat(arm.ee_world));
    }
  }
  for (const SceneCamera& cam : cameras) {
    const int index = CameraIndex(episode, cam.sim_name);
    if (index < 0) return absl::InvalidArgumentError(absl::StrCat("ToRobotEpisode: no camera '", cam.sim_name, "'"));
    if (absl::Status s = CheckFrames(episode, index); !s.ok()) return s;
    data::CameraStream stream;
    stream.name = cam.dataset_name;
    stream.width = episode.cameras[index].width;
    stream.height = episode.cameras[index].height;
    stream.has_calibration = cam.fixed;
    stream.intrinsic = IntrinsicMatrix(episode.cameras[index].intrinsics);
    stream.cam2world = cam.cam2world;
    for (const sim::StepRecord& step : episode.steps) stream.frames.push_back(ToRgb(step.images[index]));
    out.cameras.push_back(std::move(stream));
  }
  const sim::Task* task = sim::FindTask(episode.task);
  out.instructions_seen.push_back(episode.instruction);
  if (task != nullptr) {
    for (const std::string& s : task->spec().seen_instructions) {
      if (s != episode.instruction) out.instructions_seen.push_back(s);
    }
    out.instructions_unseen = task->spec().unseen_instructions;
  }
  return out;
}

absl::StatusOr<data::HumanEpisode> ToHumanEpisode(const sim::Episode& episode) {
  if (episode.embodiment != action::Embodiment::kHuman) {
    return absl::InvalidArgumentError("ToHumanEpisode: not a human episode");
  }
  if (episode.steps.empty()) return absl::InvalidArgumentError("ToHumanEpisode: the episode has no recorded steps");
  const int ego = CameraIndex(episode, "ego");
  if (ego < 0) return absl::InvalidArgumentError("ToHumanEpisode: no egocentric camera 'ego'");
  if (absl::Status s = CheckFrames(episode, ego); !s.ok()) return s;
  data::HumanEpisode out;
  out.fps = 1.0 / sim::kControlDt;
  for (size_t t = 0; t < episode.steps.size(); ++t) {
    const sim::StepRecord& step = episode.steps[t];
    if (step.transforms.size() != episode.steps.front().transforms.size()) {
      return absl::InvalidArgumentError(absl::StrCat("ToHumanEpisode: step ", t, " has ", step.transforms.size(),
                                                     " transforms, step 0 has ",
                                                     episode.steps.front().transforms.size()));
    }
    for (const auto& [joint, pose] : step.transforms) out.transforms[joint].push_back(pose);
    for (const auto& [joint, c] : step.confidences) out.confidences[joint].push_back(c);
  }
  if (!out.transforms.count("camera")) return absl::InvalidArgumentError("ToHumanEpisode: no `camera` transform");
  out.intrinsic = IntrinsicMatrix(episode.cameras[ego].intrinsics);
  out.video.name = "camera";
  out.video.width = episode.cameras[ego].width;
  out.video.height = episode.cameras[ego].height;
  out.video.has_calibration = true;
  out.video.intrinsic = out.intrinsic;
  for (const sim::StepRecord& step : episode.steps) out.video.frames.push_back(ToRgb(step.images[ego]));
  out.attributes["llm_description"] = episode.instruction;
  out.attributes["which_llm_description"] = "1";
  out.attributes["task"] = episode.task;
  out.attributes["environment"] = absl::StrCat("mivla-sim tabletop (", sim::ModeName(episode.mode), ")");
  out.attributes["session_name"] =
      absl::StrCat("mivla-datagen ", episode.task, " ", sim::ModeName(episode.mode), " seed ", episode.seed);
  return out;
}

}  // namespace mivla::datagen
