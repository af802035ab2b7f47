// File: rollout.h
// Runs one seeded episode of a task with an embodiment's scripted expert and records, per control step
// (25 Hz), what the dataset writers need:
//  - robots: per arm the joint positions (chain order, rad), gripper opening (m) and in the
//    embodiment's native unit (m, or rad for LocoMan's servo), end-effector pose in the embodiment
//    frame and in the world; per camera (head, wrist cameras) the RGB frame;
//  - human: world 4x4 transforms of the ARKit hand joints that core/retarget/egodex.h reads (wrists,
//    thumb knuckle..tip, finger metacarpal..tip) and of `camera` (the egocentric camera, camera-to-world
//    with x right, y up, looking along -z), expressed in ARKit's world frame (x right, y up, z toward
//    the person, who faces the simulator's +x: p_arkit = (-y, z, -x)_sim = C^T p_sim with C the
//    embodiments' human_to_base), confidences (1), the egocentric RGB frames and their intrinsics.
// Same options (task, embodiment, mode, seed) -> the same episode, bit for bit.
// Thread-compatible: concurrent RunEpisode calls need separate Renderers.
#ifndef MIVLA_SIM_ROLLOUT_H_
#define MIVLA_SIM_ROLLOUT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "Eigen/Geometry"
#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "sim/renderer.h"
#include "sim/scene.h"
#include "sim/sim_env.h"
#include "sim/task.h"

namespace mivla::sim {

struct EpisodeOptions {
  std::string task;
  action::Embodiment embodiment = action::Embodiment::kPiper;
  Mode mode = Mode::kEasy;
  uint64_t seed = 0;
  bool record = true;       // fill Episode::steps
  bool render = false;      // needs a Renderer
  bool unseen_instruction = false;  // draw the instruction from the unseen split
  int steps_after_success = 5;      // control steps recorded after success first holds
  std::string embodiment_dir;       // as kinematics::LoadEmbodiment
  std::vector<std::string> extra_cameras;  // rendered after the rig's cameras (e.g. "side")
};

struct ArmRecord {
  kinematics::Side side = kinematics::Side::kRight;
  std::vector<double> joints;
  double gripper_m = 0.0;
  double gripper_native = 0.0;
  Eigen::Isometry3d ee_in_base = Eigen::Isometry3d::Identity();
  Eigen::Isometry3d ee_world = Eigen::Isometry3d::Identity();
};

struct StepRecord {
  double time = 0.0;
  std::vector<ArmRecord> arms;                        // robots, rig effector order (right first)
  std::map<std::string, Eigen::Matrix4d> transforms;  // human: ARKit joint -> pose, plus "camera"
  std::map<std::string, double> confidences;         // human
  std::vector<Image> images;                          // per Episode::cameras entry (when rendering)
  std::vector<bool> subtasks;
  bool success = false;
};

struct CameraInfo {
  std::string name;
  int width = kImageWidth;
  int height = kImageHeight;
  Intrinsics intrinsics;
};

struct Episode {
  std::string task;
  action::Embodiment embodiment = action::Embodiment::kPiper;
  Mode mode = Mode::kEasy;
  uint64_t seed = 0;
  std::string instruction;
  bool instruction_seen = true;
  double table_height_m = 0.0;
  bool success = false;
  double completeness = 0.0;  // fraction of sub-tasks done at some step
  int num_steps = 0;
  int ik_failures = 0;
  bool diverged = false;  // the physics became unstable (the episode counts as failed)
  long physics_steps = 0;
  std::vector<CameraInfo> cameras;
  std::vector<StepRecord> steps;
};

/// A freshly built scene for the options (no steps taken), for callers that drive it themselves.
struct EpisodeScene {
  const Task* task = nullptr;
  std::unique_ptr<SimEnv> env;
  TaskContext context;
  Appearance appearance;
  std::string instruction;
};
absl::StatusOr<EpisodeScene> MakeEpisodeScene(const EpisodeOptions& options);

/// Runs the expert until success (+ steps_after_success) or the task's step limit. `renderer` may be
/// null when options.render is false. InvalidArgument for an unknown task or an unsupported
/// embodiment.
absl::StatusOr<Episode> RunEpisode(const EpisodeOptions& options, Renderer* renderer = nullptr);

/// The same on a scene built by MakeEpisodeScene(options) that something else (a policy) may already
/// have moved: the expert plans from the scene's current state (its first segment sets new targets
/// from where the objects are now), records from here (times continue the scene's clock) and runs at
/// most the task's step limit more steps. Sub-tasks count only from here. The scene is left in its
/// final state.
absl::StatusOr<Episode> RunExpertOnScene(EpisodeScene& scene, const EpisodeOptions& options,
                                         Renderer* renderer = nullptr);

}  // namespace mivla::sim

#endif  // MIVLA_SIM_ROLLOUT_H_
