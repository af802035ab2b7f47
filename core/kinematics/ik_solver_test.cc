#include "core/kinematics/ik_solver.h"

#include <cmath>
#include <limits>
#include <random>

#include "core/kinematics/embodiment_loader.h"
#include "core/kinematics/transforms.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::kinematics {
namespace {

using ::testing::HasSubstr;

JointVector RandomInLimits(const KinematicChain& c, std::mt19937* rng) {
  std::uniform_real_distribution<double> u(0, 1);
  JointVector q(c.num_joints());
  for (int i = 0; i < q.size(); ++i) q[i] = c.lower()[i] + u(*rng) * (c.upper()[i] - c.lower()[i]);
  return q;
}

std::vector<ArmDescription> AllArms() {
  std::vector<ArmDescription> arms;
  for (action::Embodiment e : action::kAllEmbodiments) {
    if (!action::IsRobot(e)) continue;
    auto d = LoadEmbodiment(e);
    EXPECT_TRUE(d.ok()) << d.status();
    for (const ArmDescription& a : d->arms) arms.push_back(a);
  }
  return arms;
}

TEST(IkSolverTest, RoundTripsFromRandomSeedsOnEveryArm) {
  for (const ArmDescription& arm : AllArms()) {
    auto ik = IkSolver::Create(arm.chain, {}, arm.home);
    ASSERT_TRUE(ik.ok()) << ik.status();
    std::mt19937 rng(11);
    int failures = 0;
    const int kTrials = 150;
    for (int k = 0; k < kTrials; ++k) {
      const JointVector q = RandomInLimits(arm.chain, &rng);
      const Eigen::Isometry3d target = arm.chain.ForwardUnchecked(q);
      const JointVector seed = RandomInLimits(arm.chain, &rng);
      auto s = ik->Solve(target, seed);
      if (!s.ok()) {
        ++failures;
        EXPECT_EQ(s.status().code(), absl::StatusCode::kOutOfRange) << s.status();
        continue;
      }
      ASSERT_TRUE(arm.chain.WithinLimits(s->joints, 0.0)) << arm.name;
      ASSERT_TRUE(s->joints.allFinite());
      const PoseDistance d = DistanceBetween(arm.chain.ForwardUnchecked(s->joints), target);
      EXPECT_LT(d.position_m, 1e-4) << arm.name;
      EXPECT_LT(d.rotation_rad, 1e-3) << arm.name;
      EXPECT_NEAR(d.position_m, s->position_error_m, 1e-9);
    }
    EXPECT_LE(failures, 2) << arm.name << ": " << failures << " of " << kTrials << " reachable targets failed";
  }
}

TEST(IkSolverTest, CurrentStateFirstAndNearest) {
  const ArmDescription arm = AllArms()[0];
  auto ik = IkSolver::Create(arm.chain, {}, arm.home);
  ASSERT_TRUE(ik.ok());
  const Eigen::Isometry3d target = arm.chain.ForwardUnchecked(arm.home);
  // Already there: no iterations, one seed, the same joints.
  auto s = ik->Solve(target, arm.home);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->seeds_tried, 1);
  EXPECT_EQ(s->iterations, 0);
  EXPECT_TRUE(s->joints.isApprox(arm.home));
  // Near the current joints: the answer stays on the same branch.
  JointVector near = arm.home;
  near.array() += 0.05;
  s = ik->Solve(target, near);
  ASSERT_TRUE(s.ok());
  EXPECT_LT((s->joints - arm.home).norm(), 1e-3);
}

TEST(IkSolverTest, UnreachableIsAnErrorWithResidual) {
  for (const ArmDescription& arm : AllArms()) {
    IkSolver::Options o;
    o.max_seeds = 8;
    auto ik = IkSolver::Create(arm.chain, o, arm.home);
    ASSERT_TRUE(ik.ok());
    Eigen::Isometry3d far = Eigen::Isometry3d::Identity();
    far.translation() = Eigen::Vector3d(3.0, 0.0, 0.5);
    IkSolution best;
    auto s = ik->Solve(far, arm.home, &best);
    ASSERT_EQ(s.status().code(), absl::StatusCode::kOutOfRange) << arm.name;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("out of reach"));
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("best residual"));
    EXPECT_TRUE(best.joints.allFinite());
    EXPECT_TRUE(arm.chain.WithinLimits(best.joints, 0.0));
    EXPECT_GT(best.position_error_m, 1.0);
  }
}

TEST(IkSolverTest, BadInputIsRejected) {
  const ArmDescription arm = AllArms()[0];
  auto ik = IkSolver::Create(arm.chain, {}, arm.home);
  ASSERT_TRUE(ik.ok());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Eigen::Isometry3d target = arm.chain.ForwardUnchecked(arm.home);
  JointVector q = arm.home;
  q[3] = nan;
  EXPECT_EQ(ik->Solve(target, q).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ik->Solve(target, JointVector::Zero(4)).status().code(), absl::StatusCode::kInvalidArgument);
  Eigen::Isometry3d bad = target;
  bad.translation().y() = nan;
  EXPECT_EQ(ik->Solve(bad, arm.home).status().code(), absl::StatusCode::kInvalidArgument);
  bad = target;
  bad.linear() *= 2.0;
  EXPECT_EQ(ik->Solve(bad, arm.home).status().code(), absl::StatusCode::kInvalidArgument);
  // Out-of-limit current joints are clamped, not rejected, and the answer respects the limits.
  q = arm.home;
  q[0] = 50.0;
  auto s = ik->Solve(target, q);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(arm.chain.WithinLimits(s->joints, 0.0));
}

TEST(IkSolverTest, DeterministicAndOptionsValidated) {
  const ArmDescription arm = AllArms()[1];
  auto ik = IkSolver::Create(arm.chain, {}, arm.home);
  ASSERT_TRUE(ik.ok());
  std::mt19937 rng(5);
  const Eigen::Isometry3d target = arm.chain.ForwardUnchecked(RandomInLimits(arm.chain, &rng));
  const JointVector seed = RandomInLimits(arm.chain, &rng);
  auto a = ik->Solve(target, seed);
  auto b = ik->Solve(target, seed);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->joints, b->joints);
  IkSolver::Options o;
  o.max_seeds = 0;
  EXPECT_FALSE(IkSolver::Create(arm.chain, o).ok());
  EXPECT_FALSE(IkSolver::Create(arm.chain, {}, JointVector::Zero(3)).ok());
}

}  // namespace
}  // namespace mivla::kinematics
