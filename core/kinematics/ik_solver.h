// File: ik_solver.h
// Inverse kinematics for a full 6-D end-effector pose on a KinematicChain: Levenberg-Marquardt on the
// weighted pose error (position in m, rotation as axis-angle scaled by a length), joint limits enforced
// by projection after every step, several seeds (the current joints first, then the home pose, then
// deterministic pseudo-random in-limit seeds). A solution from the current-joints seed is taken as is;
// otherwise up to `solutions_to_compare` solutions are gathered (within `extra_seeds_after_solution`
// seeds of the first) and the one nearest the current joints wins. An unreachable pose is an OutOfRange error whose message gives the best residual.
//
//   ASSIGN_OR_RETURN(IkSolver ik, IkSolver::Create(arm.chain, {}, arm.home));
//   absl::StatusOr<IkSolution> s = ik.Solve(target, current_joints);
//
// Immutable after Create; Solve is const, thread-safe, deterministic and heap-free.
#ifndef MIVLA_CORE_KINEMATICS_IK_SOLVER_H_
#define MIVLA_CORE_KINEMATICS_IK_SOLVER_H_

#include <cstdint>

#include "Eigen/Geometry"
#include "absl/status/statusor.h"
#include "core/kinematics/kinematic_chain.h"

namespace mivla::kinematics {

struct IkSolution {
  JointVector joints;             // always within the chain's limits and finite
  double position_error_m = 0.0;  // residual at `joints`
  double rotation_error_rad = 0.0;
  int iterations = 0;             // LM iterations over all seeds tried
  int seeds_tried = 0;
};

class IkSolver {
 public:
  struct Options {
    double position_tolerance_m = 1e-5;   // success needs both residuals below these
    double rotation_tolerance_rad = 1e-4;
    int max_iterations_per_seed = 60;
    int max_seeds = 40;                   // current joints + home + random seeds
    int solutions_to_compare = 2;         // when the current-joints seed fails ...
    int extra_seeds_after_solution = 4;   // ... but stop this many seeds after the first solution
    double rotation_weight_m = 0.2;       // metres per radian in the error norm
    uint32_t random_seed = 0x5eed;        // seeds the per-call generator: same inputs, same output
  };

  /// `home` (optional, empty = none) is tried as the second seed; it must have the chain's size.
  static absl::StatusOr<IkSolver> Create(KinematicChain chain, Options options, JointVector home = {});

  const KinematicChain& chain() const { return chain_; }
  const Options& options() const { return options_; }

  /// Joints whose FK reaches `target` (in the chain's base/embodiment frame). `current` must have
  /// num_joints finite values (it is clamped into the limits before use). Errors: InvalidArgument for
  /// bad input (NaN, non-rigid target, wrong size); OutOfRange when no seed converges, with the best
  /// residual in the message and, when `best_effort` is non-null, the best (in-limit) joints found.
  absl::StatusOr<IkSolution> Solve(const Eigen::Isometry3d& target, const JointVector& current,
                                   IkSolution* best_effort = nullptr) const;

 private:
  struct SeedRun;
  IkSolver() = default;
  SeedRun RunFromSeed(const Eigen::Isometry3d& target, const JointVector& seed) const;

  KinematicChain chain_;
  Options options_;
  JointVector home_;
};

}  // namespace mivla::kinematics

#endif  // MIVLA_CORE_KINEMATICS_IK_SOLVER_H_
