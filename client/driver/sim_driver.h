// File: sim_driver.h
// The MuJoCo simulation driver: one seeded episode of a sim-suite task (sim/task.h) for any robot of the
// suite (PiPER, ARX-5, LocoMan, ALOHA-AgileX), behind the RobotDriver interface. Command() sets the
// arms' joint and gripper targets and advances the physics by one control period (a multiple of the
// 2 ms physics step: 40 ms = 25 Hz like the suite, 20 ms = 50 Hz); Read() returns joints, gripper
// (native unit), end-effector poses and the rig's cameras (head, then one wrist camera per arm).
//
// Two clocks: as fast as possible (simulated time, NowUs() = simulated time; cameras rendered on demand
// in Read, so the same seed and actions give the same frames), or real time (the steady wall clock; a
// camera thread renders a snapshot of the scene every camera period, so rendering never stalls the
// control loop; Read returns the latest finished frames with their capture times).
// The task is checked after every step: outcome() gives success, completeness and the sub-tasks.
// RunExpertFromHere hands the scene to the task's scripted expert (expert takeover).
//
// Thread-safety: the RobotDriver methods and outcome() from one thread (the control loop); the camera
// thread is internal.
#ifndef MIVLA_CLIENT_DRIVER_SIM_DRIVER_H_
#define MIVLA_CLIENT_DRIVER_SIM_DRIVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/driver/robot_driver.h"
#include "core/action/action_space.h"
#include "sim/renderer.h"
#include "sim/rollout.h"
#include "sim/scene.h"

namespace mivla::client {

struct SimDriverOptions {
  std::string task = "press_bell";
  action::Embodiment embodiment = action::Embodiment::kPiper;
  sim::Mode mode = sim::Mode::kEasy;
  uint64_t seed = 0;
  double control_period_s = 0.04;  // a multiple of 2 ms
  double camera_period_s = 0.04;   // how often the cameras are rendered (<= 0: at every Read)
  bool render = true;              // false: no cameras (cameras() is empty)
  bool real_time = false;
  bool unseen_instruction = false;
  std::string embodiment_dir;      // as kinematics::LoadEmbodiment
};

/// Outcome of the episode so far.
struct SimOutcome {
  bool success = false;      // the task's success holds now or held at some step
  int success_step = -1;     // first control step with success
  double completeness = 0.0; // fraction of sub-tasks done at some step (1 on success)
  std::vector<bool> subtasks;
  int steps = 0;             // control steps taken
  bool diverged = false;
};

class SimDriver : public RobotDriver {
 public:
  /// InvalidArgument for an unknown task, an embodiment the task does not support (or the human), or a
  /// control period that is not a positive multiple of 2 ms.
  static absl::StatusOr<std::unique_ptr<SimDriver>> Create(SimDriverOptions options);
  ~SimDriver() override;

  const kinematics::EmbodimentDescription& embodiment() const override;
  std::vector<CameraLayout> cameras() const override;
  double control_period_s() const override;
  absl::Status Start() override;
  absl::StatusOr<RobotReading> Read(bool with_images) override;
  absl::Status Command(const RobotCommand& command) override;
  absl::Status Stop() override;
  int64_t NowUs() const override;
  bool simulated_clock() const override;

  const std::string& instruction() const;
  /// The task's step limit converted to this driver's control period.
  int step_limit() const;
  SimOutcome outcome() const;
  /// Grasp-frame (TCP) positions in the world, per arm (for traces).
  std::vector<Eigen::Vector3d> TcpWorld() const;

  /// Expert takeover (DAgger-style data, mivla-datagen --policy-server): stops the camera thread and lets
  /// the task's scripted expert finish the episode from the scene's current state
  /// (sim::RunExpertOnScene), recording it as `record` asks (record, render, extra cameras, steps after
  /// success; its task, embodiment, mode, seed and instruction split are this driver's). `renderer` is
  /// needed when record.render is set. The driver's outcome() does not count the expert's steps.
  absl::StatusOr<sim::Episode> RunExpertFromHere(const sim::EpisodeOptions& record, sim::Renderer* renderer);

 private:
  struct Impl;
  explicit SimDriver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The session camera name of a rig camera: "head" -> "head_camera", "r_wrist" -> "right_camera",
/// "l_wrist" -> "left_camera".
std::string SessionCameraName(const std::string& rig_camera);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_DRIVER_SIM_DRIVER_H_
