#include "core/kinematics/ik_solver.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/kinematics/transforms.h"

namespace mivla::kinematics {
namespace {

using Vector6d = Eigen::Matrix<double, 6, 1>;
using SquareMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxJoints, kMaxJoints>;

constexpr int kMaxCompared = 8;
constexpr double kLambdaFloor = 1e-12;

}  // namespace

struct IkSolver::SeedRun {
  JointVector q;
  double position_error = std::numeric_limits<double>::infinity();
  double rotation_error = std::numeric_limits<double>::infinity();
  double cost = std::numeric_limits<double>::infinity();
  int iterations = 0;
  bool converged = false;
};

absl::StatusOr<IkSolver> IkSolver::Create(KinematicChain chain, Options options, JointVector home) {
  if (chain.num_joints() == 0) return absl::InvalidArgumentError("IK needs a non-empty chain");
  if (!(options.position_tolerance_m > 0) || !(options.rotation_tolerance_rad > 0) ||
      options.max_iterations_per_seed < 1 || options.max_seeds < 1 || options.solutions_to_compare < 1 ||
      options.extra_seeds_after_solution < 0 ||
      options.solutions_to_compare > kMaxCompared || !(options.rotation_weight_m > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "IK options out of range: tolerances and rotation weight must be > 0, iterations and seeds >= 1, "
        "solutions_to_compare in [1, ", kMaxCompared, "]"));
  }
  if (home.size() != 0) {
    absl::Status s = chain.CheckJoints(home);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("IK home pose: ", s.message()));
  }
  IkSolver solver;
  solver.home_ = home.size() != 0 ? chain.Clamp(home) : home;
  solver.chain_ = std::move(chain);
  solver.options_ = options;
  return solver;
}

IkSolver::SeedRun IkSolver::RunFromSeed(const Eigen::Isometry3d& target, const JointVector& seed) const {
  const int n = chain_.num_joints();
  const double w = options_.rotation_weight_m;
  Eigen::Isometry3d pose;
  Jacobian jac(6, n), trial_jac(6, n);
  Vector6d err, trial_err;

  // Weighted error and Jacobian at q; returns the cost (squared weighted error norm).
  auto evaluate = [&](const JointVector& q, Jacobian* j, Vector6d* e) {
    chain_.ForwardWithJacobian(q, &pose, j);
    e->head<3>() = target.translation() - pose.translation();
    e->tail<3>() = w * RotationErrorVector(target.linear(), pose.linear());
    j->bottomRows<3>() *= w;
    return e->squaredNorm();
  };

  SeedRun run;
  run.q = chain_.Clamp(seed);
  run.cost = evaluate(run.q, &jac, &err);
  double lambda_scale = 1.0;
  int stalled = 0;
  SquareMatrix a(n, n);
  JointVector trial_q(n);
  for (; run.iterations < options_.max_iterations_per_seed; ++run.iterations) {
    run.position_error = err.head<3>().norm();
    run.rotation_error = err.tail<3>().norm() / w;
    if (run.position_error <= options_.position_tolerance_m &&
        run.rotation_error <= options_.rotation_tolerance_rad) {
      run.converged = true;
      return run;
    }
    // Damping proportional to the current cost (large far away, vanishing at the solution).
    const double lambda = std::max(lambda_scale * run.cost, kLambdaFloor);
    a.noalias() = jac.transpose() * jac;
    a.diagonal().array() += lambda;
    const JointVector g = jac.transpose() * err;
    JointVector step = a.ldlt().solve(g);
    // Joints resting on a limit that the step pushes further out are held there and the step is
    // solved again for the others (an active set), instead of letting the clamp distort the step.
    bool any_held = false;
    JointVector g_free = g;
    for (int i = 0; i < n; ++i) {
      const bool at_lower = run.q[i] <= chain_.lower()[i] + 1e-12 && step[i] < 0;
      const bool at_upper = run.q[i] >= chain_.upper()[i] - 1e-12 && step[i] > 0;
      if (at_lower || at_upper) {
        a.row(i).setZero();
        a.col(i).setZero();
        a(i, i) = 1.0;
        g_free[i] = 0.0;
        any_held = true;
      }
    }
    if (any_held) step = a.ldlt().solve(g_free);
    trial_q = chain_.Clamp(run.q + step);
    const double trial_cost = evaluate(trial_q, &trial_jac, &trial_err);
    if (trial_cost < run.cost) {
      stalled = (run.cost - trial_cost < 1e-3 * run.cost) ? stalled + 1 : 0;
      run.q = trial_q;
      run.cost = trial_cost;
      jac = trial_jac;
      err = trial_err;
      lambda_scale = std::max(lambda_scale * 0.25, 1e-6);
    } else {
      ++stalled;
      lambda_scale *= 8.0;
    }
    if (stalled >= 6 || lambda_scale > 1e8) break;  // local minimum or pinned at a limit
  }
  run.position_error = err.head<3>().norm();
  run.rotation_error = err.tail<3>().norm() / w;
  run.converged = run.position_error <= options_.position_tolerance_m &&
                  run.rotation_error <= options_.rotation_tolerance_rad;
  return run;
}

absl::StatusOr<IkSolution> IkSolver::Solve(const Eigen::Isometry3d& target, const JointVector& current,
                                           IkSolution* best_effort) const {
  absl::Status s = chain_.CheckJoints(current);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("IK current joints: ", s.message()));
  if (!target.matrix().allFinite()) return absl::InvalidArgumentError("IK target pose is not finite");
  if (!IsValidPose(target, 1e-6)) return absl::InvalidArgumentError("IK target rotation is not orthonormal");

  const int n = chain_.num_joints();
  const JointVector start = chain_.Clamp(current);
  std::mt19937 rng(options_.random_seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);

  SeedRun best;  // lowest cost among failures
  SeedRun found[kMaxCompared];
  int num_found = 0;
  int iterations = 0;
  int seeds = 0;
  int first_found_at = -1;
  for (int k = 0; k < options_.max_seeds; ++k) {
    if (first_found_at >= 0 && k - first_found_at > options_.extra_seeds_after_solution) break;
    JointVector seed(n);
    if (k == 0) {
      seed = start;
    } else if (k == 1 && home_.size() == n) {
      seed = home_;
    } else {
      for (int i = 0; i < n; ++i) {
        seed[i] = chain_.lower()[i] + unit(rng) * (chain_.upper()[i] - chain_.lower()[i]);
      }
    }
    SeedRun run = RunFromSeed(target, seed);
    iterations += run.iterations;
    ++seeds;
    if (run.converged) {
      if (k == 0) {
        return IkSolution{run.q, run.position_error, run.rotation_error, iterations, seeds};
      }
      if (num_found == 0) first_found_at = k;
      found[num_found++] = run;
      if (num_found >= options_.solutions_to_compare) break;
    } else if (run.cost < best.cost) {
      best = run;
    }
  }
  if (num_found > 0) {
    int nearest = 0;
    for (int i = 1; i < num_found; ++i) {
      if ((found[i].q - start).squaredNorm() < (found[nearest].q - start).squaredNorm()) nearest = i;
    }
    const SeedRun& r = found[nearest];
    return IkSolution{r.q, r.position_error, r.rotation_error, iterations, seeds};
  }
  if (best_effort != nullptr) {
    *best_effort = IkSolution{best.q, best.position_error, best.rotation_error, iterations, seeds};
  }
  return absl::OutOfRangeError(absl::StrFormat(
      "IK on '%s': target pose out of reach; best residual %.6f m, %.6f rad after %d seeds "
      "(tolerance %.1e m, %.1e rad)",
      chain_.name(), best.position_error, best.rotation_error, seeds, options_.position_tolerance_m,
      options_.rotation_tolerance_rad));
}

}  // namespace mivla::kinematics
