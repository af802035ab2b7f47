// File: expert.h
// Scripted experts. A Plan is a list of timed segments; each segment, when it starts, sets new
// targets for the effectors it moves (grasp-frame pose in the world + closure, 0 open .. 1 closed),
// usually from the objects' current poses, and the controller moves there along a smooth
// (minimum-jerk) Cartesian path. Robots follow by IK (core/kinematics IkSolver, seeded with the
// previous solution) into position-controlled joints; hands follow through their mocap wrists.
// PlanBuilder provides the pick / place / press fragments the tasks share.
// Not thread-safe: one ExpertController per SimEnv.
#ifndef MIVLA_SIM_EXPERT_H_
#define MIVLA_SIM_EXPERT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "Eigen/Geometry"
#include "absl/status/statusor.h"
#include "core/kinematics/ik_solver.h"
#include "sim/sim_env.h"

namespace mivla::sim {

struct EffectorTarget {
  Eigen::Isometry3d tcp = Eigen::Isometry3d::Identity();  // grasp frame, world
  double closure = 0.0;
};
using Targets = std::vector<EffectorTarget>;  // one per rig effector

struct Segment {
  double duration_s = 1.0;
  std::function<void(const SimEnv&, Targets*)> update;  // may be empty (hold)
};
using Plan = std::vector<Segment>;

/// Distances from an effector's grasp frame: up to the palm (what must clear an object's top) and
/// down to the finger tips (what must clear the table).
double PalmClearance(const Effector& e);
double TipReach(const Effector& e);

/// Appends common fragments to a plan.
class PlanBuilder {
 public:
  PlanBuilder(Plan* plan, const Rig& rig, double table_z) : plan_(plan), rig_(rig), table_z_(table_z) {}
  /// Top-down grasp of `body` at `grasp_point` (object frame; its top is `top_above_m` above that
  /// point), yaw chosen from `yaw_offsets` (added to the object's yaw) closest to 0; then lift by `lift`.
  /// The approach goes to `approach` above the object's top, unless the grasp frame is already within
  /// 1.5 cm of the grasp point horizontally and between it and that height (an expert taking over
  /// mid-descent): then it aligns at its current height and descends from there.
  void Pick(int effector, const std::string& body, const Eigen::Vector3d& grasp_point, double top_above_m,
            const std::vector<double>& yaw_offsets, double lift, double approach = 0.05);
  /// The same for several effectors at once, each at its own grasp point on the same body.
  void PickMany(const std::vector<std::pair<int, Eigen::Vector3d>>& grips, const std::string& body,
                double top_above_m, const std::vector<double>& yaw_offsets, double lift, double approach = 0.05);
  /// Carries the held object so that its origin ends at `target` (world), releases and retreats.
  /// `target_fn` is evaluated when the carry starts.
  void Place(int effector, const std::string& body, std::function<Eigen::Vector3d(const SimEnv&)> target_fn,
             double release_height);
  /// Moves the grasp frame by `delta` (world) over `duration_s`.
  void MoveBy(int effector, const Eigen::Vector3d& delta, double duration_s);
  void SetClosure(int effector, double closure, double duration_s);
  void Hold(double duration_s);
  /// Target for several effectors in one segment.
  void Add(double duration_s, std::function<void(const SimEnv&, Targets*)> update);

 private:
  Plan* plan_;
  const Rig& rig_;
  double table_z_;
};

class ExpertController {
 public:
  static absl::StatusOr<std::unique_ptr<ExpertController>> Create(SimEnv* env, Plan plan);
  /// Sets this control step's targets and steps the simulation once.
  absl::Status Step();
  bool done() const { return segment_ >= static_cast<int>(plan_.size()); }
  int ik_failures() const { return ik_failures_; }

 private:
  ExpertController() = default;
  void Apply(const Targets& t);

  SimEnv* env_ = nullptr;
  Plan plan_;
  std::vector<std::unique_ptr<kinematics::IkSolver>> ik_;
  std::vector<kinematics::JointVector> last_q_;
  Targets from_, to_;
  int segment_ = 0;
  int step_in_segment_ = 0;
  int steps_in_segment_ = 0;
  int ik_failures_ = 0;
};

}  // namespace mivla::sim

#endif  // MIVLA_SIM_EXPERT_H_
