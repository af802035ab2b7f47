// File: rollout.cc
#include "sim/rollout.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "sim/expert.h"
#include "sim/hand_mjcf.h"

namespace mivla::sim {
namespace {

// ARKit world (x right, y up, z toward the user) from the simulator's world (x forward, y left, z up),
// for a person who faces +x like the robots (the ego camera looks along +x): p_arkit = C^T p_sim, with C the
// human_to_base rotation of core/kinematics/embodiments/*.json, so retargeting a sim human demo moves the
// robots' end effectors along the same world axes as the hands.
Eigen::Matrix4d ArkitFromSim() {
  Eigen::Matrix4d a = Eigen::Matrix4d::Identity();
  a.block<3, 3>(0, 0) << 0, -1, 0, 0, 0, 1, -1, 0, 0;
  return a;
}

void RecordState(const SimEnv& env, const std::vector<CameraInfo>& cameras, StepRecord* rec) {
  const Rig& rig = env.rig();
  rec->time = env.time();
  if (rig.embodiment == action::Embodiment::kHuman) {
    const Eigen::Matrix4d a = ArkitFromSim();
    for (const Effector& eff : rig.effectors) {
      for (const std::string& joint : ArkitHandJointNames(eff.side)) {
        absl::StatusOr<Eigen::Isometry3d> p = env.SitePose(joint);
        if (!p.ok()) continue;
        rec->transforms[joint] = a * p->matrix();
        rec->confidences[joint] = 1.0;
      }
    }
    const int cam = mj_name2id(env.model(), mjOBJ_CAMERA, "ego");
    if (cam >= 0) {
      Eigen::Matrix4d c = Eigen::Matrix4d::Identity();
      for (int r = 0; r < 3; ++r) {
        c(r, 3) = env.data()->cam_xpos[3 * cam + r];
        for (int k = 0; k < 3; ++k) c(r, k) = env.data()->cam_xmat[9 * cam + 3 * r + k];
      }
      rec->transforms["camera"] = a * c;
    }
    return;
  }
  for (size_t i = 0; i < rig.effectors.size(); ++i) {
    const Effector& eff = rig.effectors[i];
    ArmRecord arm;
    arm.side = eff.side;
    const kinematics::JointVector q = env.ArmJoints(i);
    arm.joints.assign(q.data(), q.data() + q.size());
    arm.gripper_m = env.GripperOpening(i);
    const kinematics::GripperSpec& g = eff.arm.gripper;
    arm.gripper_native = g.min_m + std::clamp(arm.gripper_m / eff.max_opening_m, 0.0, 1.0) * (g.max_m - g.min_m);
    arm.ee_in_base = env.EeInBase(i);
    arm.ee_world = eff.base_world * arm.ee_in_base;
    rec->arms.push_back(std::move(arm));
  }
  (void)cameras;
}

}  // namespace

absl::StatusOr<EpisodeScene> MakeEpisodeScene(const EpisodeOptions& options) {
  EpisodeScene scene;
  scene.task = FindTask(options.task);
  if (scene.task == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown task '", options.task, "'"));
  const std::vector<action::Embodiment> ok = SupportedEmbodiments(*scene.task);
  if (std::find(ok.begin(), ok.end(), options.embodiment) == ok.end()) {
    return absl::InvalidArgumentError(absl::StrCat("task '", options.task, "' does not support embodiment ",
                                                   std::string(action::EmbodimentName(options.embodiment))));
  }
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ull + 0x1234567ull);
  scene.appearance = SampleAppearance(options.mode, rng);
  const double z = scene.appearance.table_height_m;
  const std::string objects = scene.task->ObjectsXml(rng, z, LayoutShift(*scene.task, options.embodiment));
  const TaskSpec& spec = scene.task->spec();
  const std::vector<std::string>& phrasings = options.unseen_instruction ? spec.unseen_instructions : spec.seen_instructions;
  scene.instruction = phrasings[rng() % phrasings.size()];
  ASSIGN_OR_RETURN(Rig rig, BuildRig(options.embodiment, z, options.embodiment_dir));
  const std::string xml = BuildSceneXml(rig, scene.appearance, objects);
  scene.context = MakeContext(*scene.task, rig, z);
  ASSIGN_OR_RETURN(scene.env, SimEnv::Create(xml, std::move(rig)));
  return scene;
}

absl::StatusOr<Episode> RunEpisode(const EpisodeOptions& options, Renderer* renderer) {
  if (options.render && renderer == nullptr) return absl::InvalidArgumentError("RunEpisode: render needs a Renderer");
  ASSIGN_OR_RETURN(EpisodeScene scene, MakeEpisodeScene(options));
  return RunExpertOnScene(scene, options, renderer);
}

absl::StatusOr<Episode> RunExpertOnScene(EpisodeScene& scene, const EpisodeOptions& options, Renderer* renderer) {
  if (options.render && renderer == nullptr) return absl::InvalidArgumentError("RunEpisode: render needs a Renderer");
  if (scene.task == nullptr || scene.env == nullptr) return absl::InvalidArgumentError("RunEpisode: an empty scene");
  SimEnv& env = *scene.env;
  Episode ep;
  ep.task = options.task;
  ep.embodiment = options.embodiment;
  ep.mode = options.mode;
  ep.seed = options.seed;
  ep.instruction = scene.instruction;
  ep.instruction_seen = !options.unseen_instruction;
  ep.table_height_m = scene.context.table_z;
  std::vector<std::string> camera_names = env.rig().cameras;
  if (options.render) camera_names.insert(camera_names.end(), options.extra_cameras.begin(), options.extra_cameras.end());
  for (const std::string& cam : camera_names) {
    const int id = mj_name2id(env.model(), mjOBJ_CAMERA, cam.c_str());
    if (id < 0) return absl::InvalidArgumentError(absl::StrCat("RunEpisode: no camera '", cam, "' in the scene"));
    CameraInfo info;
    info.name = cam;
    info.intrinsics = CameraIntrinsics(env.model()->cam_fovy[id], info.width, info.height);
    ep.cameras.push_back(info);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ExpertController> expert,
                   ExpertController::Create(&env, scene.task->ExpertPlan(env, scene.context)));
  const int limit = scene.task->spec().step_limit;
  std::vector<bool> done(scene.task->spec().subtasks.size(), false);
  int success_at = -1, plan_done_at = -1;
  for (int step = 0; step < limit; ++step) {
    StepRecord rec;
    if (options.record) {
      RecordState(env, ep.cameras, &rec);
      if (options.render) {
        for (const CameraInfo& cam : ep.cameras) {
          ASSIGN_OR_RETURN(Image img, renderer->Render(env.model(), const_cast<mjData*>(env.data()), cam.name));
          rec.images.push_back(std::move(img));
        }
      }
    }
    if (absl::Status s = expert->Step(); !s.ok()) {
      if (s.code() != absl::StatusCode::kAborted) return s;
      ep.diverged = true;  // an unstable simulation ends the episode as a failure
      break;
    }
    const TaskProgress progress = scene.task->Check(env, scene.context);
    for (size_t k = 0; k < done.size() && k < progress.subtasks.size(); ++k) done[k] = done[k] || progress.subtasks[k];
    rec.subtasks = done;
    rec.success = progress.success;
    if (options.record) ep.steps.push_back(std::move(rec));
    ep.num_steps = step + 1;
    if (progress.success && success_at < 0) success_at = step;
    if (success_at >= 0 && step - success_at >= options.steps_after_success) break;
    if (expert->done() && plan_done_at < 0) plan_done_at = step;
    if (success_at < 0 && plan_done_at >= 0 && step - plan_done_at >= 25) break;
  }
  ep.success = success_at >= 0;
  ep.completeness = ep.success ? 1.0 : static_cast<double>(std::count(done.begin(), done.end(), true)) / done.size();
  ep.ik_failures = expert->ik_failures();
  ep.physics_steps = env.physics_steps();
  return ep;
}

}  // namespace mivla::sim
