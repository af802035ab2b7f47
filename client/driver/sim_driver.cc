// File: sim_driver.cc
#include "client/driver/sim_driver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"
#include "sim/renderer.h"
#include "sim/rollout.h"

namespace mivla::client {
namespace {

constexpr double kPhysicsDt = 0.002;

int64_t SteadyUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// `base` (what to record) with the scene's identity (task, embodiment, mode, seed, ...) from the driver's.
sim::EpisodeOptions SceneOptions(const SimDriverOptions& options, sim::EpisodeOptions base) {
  base.task = options.task;
  base.embodiment = options.embodiment;
  base.mode = options.mode;
  base.seed = options.seed;
  base.unseen_instruction = options.unseen_instruction;
  base.embodiment_dir = options.embodiment_dir;
  return base;
}

}  // namespace

std::string SessionCameraName(const std::string& rig_camera) {
  if (rig_camera == "r_wrist") return "right_camera";
  if (rig_camera == "l_wrist") return "left_camera";
  return rig_camera + "_camera";
}

struct SimDriver::Impl {
  SimDriverOptions options;
  sim::EpisodeScene scene;
  kinematics::EmbodimentDescription description;  // arms in rig effector order (right first)
  int substeps = 20;
  int64_t start_wall_us = 0;
  int64_t camera_period_us = 0;
  SimOutcome outcome;
  // Cameras rendered synchronously (simulated clock).
  std::unique_ptr<sim::Renderer> renderer;
  std::vector<CameraFrame> frames;
  int64_t frames_time_us = -1;
  // Camera thread (real time).
  absl::Mutex mu;
  mjData* snapshot = nullptr;
  bool snapshot_pending ABSL_GUARDED_BY(mu) = false;
  int64_t snapshot_time_us ABSL_GUARDED_BY(mu) = 0;
  bool stop_camera ABSL_GUARDED_BY(mu) = false;
  absl::Status camera_status ABSL_GUARDED_BY(mu);
  std::vector<CameraFrame> async_frames ABSL_GUARDED_BY(mu);
  int64_t last_snapshot_us = -1;
  std::thread camera_thread;

  int64_t Now() const {
    return options.real_time ? SteadyUs() : static_cast<int64_t>(std::llround(scene.env->time() * 1e6));
  }

  absl::StatusOr<std::vector<CameraFrame>> RenderAll(sim::Renderer* r, mjData* data, int64_t t_us) {
    std::vector<CameraFrame> out;
    for (const std::string& cam : scene.env->rig().cameras) {
      ASSIGN_OR_RETURN(sim::Image img, r->Render(scene.env->model(), data, cam));
      CameraFrame f;
      f.camera = SessionCameraName(cam);
      f.width = img.width;
      f.height = img.height;
      f.rgb = std::move(img.rgb);
      f.capture_time_us = t_us;
      out.push_back(std::move(f));
    }
    return out;
  }

  void CameraLoop() {
    absl::StatusOr<std::unique_ptr<sim::Renderer>> r = sim::Renderer::Create();
    if (!r.ok()) {
      absl::MutexLock l(&mu);
      camera_status = r.status();
      return;
    }
    while (true) {
      int64_t t_us;
      {
        absl::MutexLock l(&mu);
        mu.Await(absl::Condition(
            +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu) { return self->snapshot_pending || self->stop_camera; },
            this));
        if (stop_camera) return;
        t_us = snapshot_time_us;
      }
      // The snapshot is not written while pending is set, so it is used here without the lock.
      mj_kinematics(scene.env->model(), snapshot);
      mj_camlight(scene.env->model(), snapshot);
      absl::StatusOr<std::vector<CameraFrame>> f = RenderAll(r->get(), snapshot, t_us);
      absl::MutexLock l(&mu);
      if (f.ok()) {
        async_frames = std::move(*f);
      } else {
        camera_status = f.status();
      }
      snapshot_pending = false;
    }
  }

  void MaybeSnapshot() {
    const int64_t now = Now();
    if (last_snapshot_us >= 0 && now - last_snapshot_us < camera_period_us) return;
    absl::MutexLock l(&mu);
    if (snapshot_pending) return;  // still rendering the previous one
    // Only the state is copied here (a few hundred numbers, not mj_copyData's whole arena); the camera
    // thread recomputes the kinematics the renderer needs.
    const mjModel* mm = scene.env->model();
    const mjData* d = scene.env->data();
    snapshot->time = d->time;
    std::copy(d->qpos, d->qpos + mm->nq, snapshot->qpos);
    std::copy(d->qvel, d->qvel + mm->nv, snapshot->qvel);
    std::copy(d->mocap_pos, d->mocap_pos + 3 * mm->nmocap, snapshot->mocap_pos);
    std::copy(d->mocap_quat, d->mocap_quat + 4 * mm->nmocap, snapshot->mocap_quat);
    snapshot_time_us = now;
    snapshot_pending = true;
    last_snapshot_us = now;
  }

  void StopCamera() {
    if (!camera_thread.joinable()) return;
    {
      absl::MutexLock l(&mu);
      stop_camera = true;
    }
    camera_thread.join();
  }
};

SimDriver::SimDriver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SimDriver::~SimDriver() {
  impl_->StopCamera();
  if (impl_->snapshot != nullptr) mj_deleteData(impl_->snapshot);
}

absl::StatusOr<std::unique_ptr<SimDriver>> SimDriver::Create(SimDriverOptions options) {
  if (!action::IsRobot(options.embodiment)) {
    return absl::InvalidArgumentError("sim driver: the human is not a robot (use piper, arx5, locoman or aloha)");
  }
  const double sub = options.control_period_s / kPhysicsDt;
  if (!(options.control_period_s > 0) || std::abs(sub - std::round(sub)) > 1e-6) {
    return absl::InvalidArgumentError(absl::StrCat("sim driver: control_period_s ", options.control_period_s,
                                                   " is not a positive multiple of the 2 ms physics step"));
  }
  auto impl = std::make_unique<Impl>();
  impl->substeps = static_cast<int>(std::lround(sub));
  absl::StatusOr<sim::EpisodeScene> scene = sim::MakeEpisodeScene(SceneOptions(options, {}));
  if (!scene.ok()) {
    return WithPrefix(scene.status(), "sim driver: ");
  }
  impl->scene = std::move(*scene);
  const sim::Rig& rig = impl->scene.env->rig();
  impl->description = rig.description;
  impl->description.arms.clear();
  for (const sim::Effector& e : rig.effectors) impl->description.arms.push_back(e.arm);
  impl->outcome.subtasks.assign(impl->scene.task->spec().subtasks.size(), false);
  impl->camera_period_us = static_cast<int64_t>(std::llround(std::max(0.0, options.camera_period_s) * 1e6));
  impl->options = std::move(options);
  impl->start_wall_us = SteadyUs();
  if (impl->options.real_time && impl->options.render) {
    impl->snapshot = mj_makeData(impl->scene.env->model());
    Impl* p = impl.get();
    impl->camera_thread = std::thread([p] { p->CameraLoop(); });
    impl->MaybeSnapshot();
  }
  return std::unique_ptr<SimDriver>(new SimDriver(std::move(impl)));
}

const kinematics::EmbodimentDescription& SimDriver::embodiment() const { return impl_->description; }

std::vector<CameraLayout> SimDriver::cameras() const {
  std::vector<CameraLayout> out;
  if (!impl_->options.render) return out;
  for (const std::string& c : impl_->scene.env->rig().cameras) {
    out.push_back({SessionCameraName(c), sim::kImageWidth, sim::kImageHeight});
  }
  return out;
}

double SimDriver::control_period_s() const { return impl_->substeps * kPhysicsDt; }
absl::Status SimDriver::Start() { return absl::OkStatus(); }
int64_t SimDriver::NowUs() const { return impl_->Now(); }
bool SimDriver::simulated_clock() const { return !impl_->options.real_time; }
const std::string& SimDriver::instruction() const { return impl_->scene.instruction; }

int SimDriver::step_limit() const {
  return static_cast<int>(std::ceil(impl_->scene.task->spec().step_limit * sim::kControlDt / control_period_s()));
}

SimOutcome SimDriver::outcome() const { return impl_->outcome; }

std::vector<Eigen::Vector3d> SimDriver::TcpWorld() const {
  std::vector<Eigen::Vector3d> out;
  for (size_t i = 0; i < impl_->scene.env->rig().effectors.size(); ++i) {
    out.push_back(impl_->scene.env->TcpWorld(static_cast<int>(i)).translation());
  }
  return out;
}

absl::StatusOr<RobotReading> SimDriver::Read(bool with_images) {
  Impl& m = *impl_;
  const sim::SimEnv& env = *m.scene.env;
  RobotReading r;
  r.time_us = m.Now();
  for (size_t i = 0; i < env.rig().effectors.size(); ++i) {
    const sim::Effector& eff = env.rig().effectors[i];
    ArmReading a;
    a.joints = env.ArmJoints(static_cast<int>(i));
    const kinematics::GripperSpec& g = eff.arm.gripper;
    a.gripper = g.min_m + std::clamp(env.GripperOpening(static_cast<int>(i)) / eff.max_opening_m, 0.0, 1.0) *
                              (g.max_m - g.min_m);
    a.ee_in_base = env.EeInBase(static_cast<int>(i));
    r.arms.push_back(std::move(a));
  }
  if (!with_images || !m.options.render) return r;
  if (m.options.real_time) {
    absl::MutexLock l(&m.mu);
    if (!m.camera_status.ok()) return m.camera_status;
    m.mu.Await(absl::Condition(
        +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu) { return !self->async_frames.empty() || !self->camera_status.ok(); },
        &m));
    if (!m.camera_status.ok()) return m.camera_status;
    r.images = m.async_frames;
    return r;
  }
  if (m.frames.empty() || r.time_us - m.frames_time_us >= m.camera_period_us) {
    if (m.renderer == nullptr) {
      ASSIGN_OR_RETURN(m.renderer, sim::Renderer::Create());
    }
    ASSIGN_OR_RETURN(m.frames, m.RenderAll(m.renderer.get(), const_cast<mjData*>(env.data()), r.time_us));
    m.frames_time_us = r.time_us;
  }
  r.images = m.frames;
  return r;
}

absl::Status SimDriver::Command(const RobotCommand& command) {
  Impl& m = *impl_;
  sim::SimEnv& env = *m.scene.env;
  const size_t n = env.rig().effectors.size();
  if (command.arms.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat("sim driver: command for ", command.arms.size(), " arms, the ",
                                                   m.description.name, " has ", n));
  }
  for (size_t i = 0; i < n; ++i) {
    const ArmTarget& t = command.arms[i];
    if (t.joints.size() != static_cast<Eigen::Index>(env.rig().effectors[i].arm.chain.num_joints())) {
      return absl::InvalidArgumentError(absl::StrCat("sim driver: arm ", i, ": ", t.joints.size(), " joints, want ",
                                                     env.rig().effectors[i].arm.chain.num_joints()));
    }
    if (!t.joints.allFinite() || !std::isfinite(t.gripper)) {
      return absl::InvalidArgumentError(absl::StrCat("sim driver: arm ", i, ": non-finite target"));
    }
  }
  if (m.outcome.diverged) return absl::AbortedError("sim driver: the simulation diverged");
  for (size_t i = 0; i < n; ++i) {
    const sim::Effector& eff = env.rig().effectors[i];
    const kinematics::GripperSpec& g = eff.arm.gripper;
    const double f = g.max_m > g.min_m ? std::clamp((command.arms[i].gripper - g.min_m) / (g.max_m - g.min_m), 0.0, 1.0)
                                       : 1.0;
    env.SetArmTarget(static_cast<int>(i), command.arms[i].joints, f * eff.max_opening_m + (1 - f) * sim::kGripperSqueezeM);
  }
  if (absl::Status s = env.Step(m.substeps); !s.ok()) {
    if (s.code() == absl::StatusCode::kAborted) m.outcome.diverged = true;
    return s;
  }
  const sim::TaskProgress p = m.scene.task->Check(env, m.scene.context);
  for (size_t k = 0; k < m.outcome.subtasks.size() && k < p.subtasks.size(); ++k) {
    m.outcome.subtasks[k] = m.outcome.subtasks[k] || p.subtasks[k];
  }
  if (p.success && m.outcome.success_step < 0) m.outcome.success_step = m.outcome.steps;
  m.outcome.success = m.outcome.success || p.success;
  ++m.outcome.steps;
  const double done = static_cast<double>(std::count(m.outcome.subtasks.begin(), m.outcome.subtasks.end(), true));
  m.outcome.completeness =
      m.outcome.success ? 1.0 : (m.outcome.subtasks.empty() ? 0.0 : done / m.outcome.subtasks.size());
  if (m.options.real_time && m.options.render) m.MaybeSnapshot();
  return absl::OkStatus();
}

absl::StatusOr<sim::Episode> SimDriver::RunExpertFromHere(const sim::EpisodeOptions& record, sim::Renderer* renderer) {
  Impl& m = *impl_;
  m.StopCamera();
  absl::StatusOr<sim::Episode> episode = sim::RunExpertOnScene(m.scene, SceneOptions(m.options, record), renderer);
  if (!episode.ok()) return WithPrefix(episode.status(), "sim driver: expert takeover: ");
  return episode;
}

absl::Status SimDriver::Stop() {
  impl_->StopCamera();
  return absl::OkStatus();
}

}  // namespace mivla::client
