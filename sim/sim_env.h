// File: sim_env.h
// A loaded MuJoCo scene with its rig: owns mjModel/mjData, steps the physics at a fixed control rate
// (20 physics steps of 2 ms per 40 ms control step), drives the rig (arm joint targets + gripper
// opening through position actuators, hand wrist poses through mocap bodies interpolated across the
// physics steps + finger closure), compensates gravity on the rig's joints (as the real arms'
// controllers do), and reads state back (joints, gripper opening, end-effector and site/body poses,
// contacts). Objects move only through contacts. Not thread-safe: one thread per SimEnv.
#ifndef MIVLA_SIM_SIM_ENV_H_
#define MIVLA_SIM_SIM_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "Eigen/Geometry"
#include "absl/status/statusor.h"
#include "core/kinematics/kinematic_chain.h"
#include "sim/mjcf_load.h"
#include "sim/rig.h"

namespace mivla::sim {

/// Gripper opening target of a fully closed gripper (m): below 0, so it squeezes what it holds. The
/// expert, the sim driver and the replay test close grippers to it.
inline constexpr double kGripperSqueezeM = -0.03;

inline constexpr int kSubsteps = 20;
inline constexpr double kControlDt = 0.04;  // 25 Hz

class SimEnv {
 public:
  /// Loads `xml` (errors name the MuJoCo parse message), puts every arm at its home pose with the
  /// gripper open and every hand at its rest pose, and settles.
  static absl::StatusOr<std::unique_ptr<SimEnv>> Create(const std::string& xml, Rig rig);
  ~SimEnv();
  SimEnv(const SimEnv&) = delete;
  SimEnv& operator=(const SimEnv&) = delete;

  const mjModel* model() const { return model_.get(); }
  const mjData* data() const { return data_; }
  const Rig& rig() const { return rig_; }
  double time() const { return data_->time; }

  /// Robot effector `i`: joint targets (chain order) and gripper opening target (m; below 0 squeezes).
  void SetArmTarget(int i, const kinematics::JointVector& q, double opening_m);
  /// Hand effector `i`: wrist pose target (world) and finger closure in [0, 1].
  void SetHandTarget(int i, const Eigen::Isometry3d& wrist, double closure);
  /// One control step (kSubsteps physics steps). Aborted when the simulation diverged (MuJoCo's
  /// bad-acceleration/velocity/position warnings or a non-finite state).
  absl::Status Step() { return Step(kSubsteps); }
  /// A control step of `substeps` physics steps (2 ms each), e.g. 10 for a 50 Hz controller.
  absl::Status Step(int substeps);
  /// Physics steps taken so far.
  long physics_steps() const { return physics_steps_; }

  kinematics::JointVector ArmJoints(int i) const;
  double GripperOpening(int i) const;      // distance between the pads (m)
  double HandClosure(int i) const { return hand_closure_[i]; }
  Eigen::Isometry3d EeInBase(int i) const;  // chain tool frame in the embodiment frame (from MuJoCo)
  Eigen::Isometry3d TcpWorld(int i) const;  // grasp frame of effector i in the world
  Eigen::Isometry3d WristWorld(int i) const;  // hands: the wrist body pose
  /// World pose of a body / site by name; NotFound when absent.
  absl::StatusOr<Eigen::Isometry3d> BodyPose(const std::string& name) const;
  absl::StatusOr<Eigen::Isometry3d> SitePose(const std::string& name) const;
  Eigen::Vector3d BodyLinearVelocity(int body_id) const;
  int BodyId(const std::string& name) const;  // -1 when absent
  /// True when any geom of effector i (its bodies) touches any geom of body `body_id`.
  bool EffectorTouches(int i, int body_id) const;
  double JointPosition(const std::string& name) const;

 private:
  SimEnv(MjModelPtr model, mjData* data, Rig rig);
  absl::Status Init();

  MjModelPtr model_;
  mjData* data_ = nullptr;
  Rig rig_;
  long physics_steps_ = 0;
  std::vector<int> comp_dofs_;  // gravity-compensated dofs (the rig's joints)
  struct ArmIds {
    std::vector<int> qpos, act;
    int finger_qpos[2], finger_act[2];
    int ee_site = -1, tcp_site = -1;
  };
  std::vector<ArmIds> arm_ids_;
  struct HandIds {
    int mocap = -1, body = -1;
    std::vector<int> act;
    Eigen::Isometry3d from, to;
  };
  std::vector<HandIds> hand_ids_;
  std::vector<double> hand_closure_;
  std::vector<std::vector<bool>> effector_bodies_;  // [effector][body]
};

}  // namespace mivla::sim

#endif  // MIVLA_SIM_SIM_ENV_H_
