// File: safety_layer_test.cc
#include "client/control/safety_layer.h"

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client/control/chunk_scheduler.h"
#include "core/kinematics/embodiment_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::client {
namespace {

using kinematics::JointVector;
using ::testing::HasSubstr;

constexpr int64_t kPeriod = 40000;
constexpr double kDt = 0.04;
constexpr double kEps = 1e-9;

class SafetyLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<kinematics::EmbodimentDescription> piper =
        kinematics::LoadEmbodiment(action::Embodiment::kPiper);
    ASSERT_TRUE(piper.ok()) << piper.status();
    piper_ = *piper;
    home_ = piper_.arms[0].home;
  }

  SafetyLayer Make(SafetyOptions o = {}) {
    absl::StatusOr<SafetyLayer> s = SafetyLayer::Create(piper_, std::move(o));
    EXPECT_TRUE(s.ok()) << s.status();
    SafetyLayer layer = std::move(s).value();
    layer.Reset(Reading(home_, 0.03));
    return layer;
  }

 public:
  static RobotReading Reading(const JointVector& q, double gripper) {
    RobotReading r;
    r.arms.resize(1);
    r.arms[0].joints = q;
    r.arms[0].gripper = gripper;
    return r;
  }
  static std::optional<TimedAction> Act(const JointVector& q, double gripper, int64_t t = 0) {
    TimedAction a;
    a.time_us = t;
    a.command.arms.resize(1);
    a.command.arms[0].joints = q;
    a.command.arms[0].gripper = gripper;
    return a;
  }
  static PolicyHealth Fresh(int64_t now) { return {true, now}; }
  static bool Has(const SafetyDecision& d, ClampKind k) {
    for (ClampKind c : d.clamps) {
      if (c == k) return true;
    }
    return false;
  }

 protected:
  Eigen::Vector3d Ee(const JointVector& q) const {
    return piper_.arms[0].chain.ForwardUnchecked(q).translation();
  }

  kinematics::EmbodimentDescription piper_;
  JointVector home_;
};

TEST_F(SafetyLayerTest, CreateRejectsBadOptions) {
  SafetyOptions two;
  two.workspace.resize(2, Eigen::AlignedBox3d(Eigen::Vector3d::Zero(), Eigen::Vector3d::Ones()));
  absl::StatusOr<SafetyLayer> s = SafetyLayer::Create(piper_, two);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("workspace has 2 boxes for 1 arms"));
  SafetyOptions empty_box;
  empty_box.workspace.push_back(Eigen::AlignedBox3d());  // empty by construction
  EXPECT_THAT(std::string(SafetyLayer::Create(piper_, empty_box).status().message()),
              HasSubstr("workspace[0] is empty"));
  SafetyOptions no_accel;
  no_accel.max_acceleration = 0.0;
  EXPECT_THAT(std::string(SafetyLayer::Create(piper_, no_accel).status().message()),
              HasSubstr("max_acceleration must be positive"));
  kinematics::EmbodimentDescription armless = piper_;
  armless.arms.clear();
  EXPECT_FALSE(SafetyLayer::Create(armless, {}).ok());
}

TEST_F(SafetyLayerTest, FilterBeforeResetHoldsWithAnEmptyCommand) {
  absl::StatusOr<SafetyLayer> s = SafetyLayer::Create(piper_, {});
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->initialized());
  SafetyDecision d = s->Filter(0, Act(home_, 0.03), Fresh(0));
  EXPECT_EQ(d.hold, HoldReason::kNoAction);
  EXPECT_TRUE(d.command.arms.empty());
  s->Reset(Reading(JointVector::Zero(3), 0.0));  // wrong shape: stays uninitialised
  EXPECT_FALSE(s->initialized());
}

TEST_F(SafetyLayerTest, FeasibleActionsPassUnchanged) {
  SafetyLayer s = Make();
  JointVector q = home_;
  for (int t = 1; t <= 20; ++t) {
    q[0] += 0.008;  // 0.2 rad/s, reached with 5 rad/s^2
    q[3] -= 0.004;
    const double g = 0.03 + 0.001 * t;
    SafetyDecision d = s.Filter(t * kPeriod, Act(q, g), Fresh(t * kPeriod));
    EXPECT_EQ(d.hold, HoldReason::kNone);
    EXPECT_TRUE(d.clamps.empty()) << t << " " << ClampKindName(d.clamps[0]);
    EXPECT_TRUE(d.command.arms[0].joints.isApprox(q, 1e-12));
    EXPECT_DOUBLE_EQ(d.command.arms[0].gripper, g);
  }
  EXPECT_EQ(s.stats().ticks, 20);
  EXPECT_EQ(s.stats().hold_ticks, 0);
}

TEST_F(SafetyLayerTest, VelocityLimitClampsAndLogs) {
  SafetyOptions o;
  o.max_acceleration = 1e4;  // isolate the velocity limit
  SafetyLayer s = Make(o);
  JointVector target = home_;
  target[0] += 0.4;  // 10 rad/s in one tick; the limit is 1 rad/s
  ::testing::internal::CaptureStderr();
  JointVector prev = home_;
  for (int t = 1; t <= 12; ++t) {
    SafetyDecision d = s.Filter(t * kPeriod, Act(target, 0.03), Fresh(t * kPeriod));
    const JointVector& q = d.command.arms[0].joints;
    EXPECT_LE((q - prev).cwiseAbs().maxCoeff(), 1.0 * kDt + kEps) << t;
    if (t == 1) {
      EXPECT_TRUE(Has(d, ClampKind::kVelocity));
    }
    prev = q;
  }
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("clamped: velocity"));
  EXPECT_NEAR(prev[0], target[0], 1e-9);  // 0.4 rad at 1 rad/s: there after 10 ticks
  EXPECT_GE(s.stats().clamps[static_cast<int>(ClampKind::kVelocity)], 9);
  EXPECT_EQ(s.stats().clamps[static_cast<int>(ClampKind::kPosition)], 0);
}

TEST_F(SafetyLayerTest, AccelerationLimitClampsWithoutOvershoot) {
  SafetyLayer s = Make();  // 8 rad/s^2
  ::testing::internal::CaptureStderr();
  const JointVector target = home_ + 0.3 * JointVector::Unit(6, 0) - 0.2 * JointVector::Unit(6, 5);
  JointVector prev = home_, prev_v = JointVector::Zero(6);
  for (int t = 1; t <= 40; ++t) {
    SafetyDecision d = s.Filter(t * kPeriod, Act(target, 0.03), Fresh(t * kPeriod));
    if (t == 1) {
      EXPECT_TRUE(Has(d, ClampKind::kAcceleration));
    }
    const JointVector q = d.command.arms[0].joints;
    const JointVector v = (q - prev) / kDt;
    EXPECT_LE((v - prev_v).cwiseAbs().maxCoeff(), 8.0 * kDt + 1e-6) << t;
    EXPECT_LE(v.cwiseAbs().maxCoeff(), 1.0 + 1e-9) << t;
    EXPECT_LE(q[0], target[0] + 1e-9) << "overshoot at " << t;
    EXPECT_GE(q[5], target[5] - 1e-9) << "overshoot at " << t;
    prev = q;
    prev_v = v;
  }
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("clamped: acceleration"));
  EXPECT_TRUE(prev.isApprox(target, 1e-9)) << prev.transpose();
  EXPECT_GT(s.stats().clamps[static_cast<int>(ClampKind::kAcceleration)], 0);
}

// A chunk join with a jump bigger than the velocity limit allows in one tick is smoothed: no step
// change beyond the velocity (or acceleration) limit.
TEST_F(SafetyLayerTest, ChunkJoinJumpIsSmoothed) {
  ChunkSchedulerOptions so;
  so.blend = BlendMode::kLatestOnly;
  ChunkScheduler sched(so);
  SafetyLayer s = Make();
  auto chunk = [&](int64_t start, int n, double offset) {
    std::vector<TimedAction> steps;
    for (int i = 0; i < n; ++i) {
      JointVector q = home_;
      q[0] += offset + 0.004 * ((start / kPeriod) + i);  // 0.1 rad/s ramp
      steps.push_back(*Act(q, 0.03, start + i * kPeriod));
    }
    return steps;
  };
  sched.AddChunk(0, 1, chunk(kPeriod, 10, 0.0));
  sched.AddChunk(0, 2, chunk(6 * kPeriod, 10, 0.5));  // the join jumps 0.5 rad at tick 6
  JointVector prev = home_, prev_v = JointVector::Zero(6);
  double max_step = 0.0;
  for (int t = 1; t <= 15; ++t) {
    const int64_t now = t * kPeriod;
    SafetyDecision d = s.Filter(now, sched.Pop(now), Fresh(now));
    ASSERT_EQ(d.hold, HoldReason::kNone) << t;
    const JointVector q = d.command.arms[0].joints;
    const JointVector v = (q - prev) / kDt;
    max_step = std::max(max_step, (q - prev).cwiseAbs().maxCoeff());
    EXPECT_LE(v.cwiseAbs().maxCoeff(), 1.0 + 1e-9) << t;
    EXPECT_LE((v - prev_v).cwiseAbs().maxCoeff(), 8.0 * kDt + 1e-6) << t;
    prev = q;
    prev_v = v;
  }
  EXPECT_GT(max_step, 0.004 + 1e-6);  // it did chase the jump
  EXPECT_GT(s.stats().clamps[static_cast<int>(ClampKind::kVelocity)] +
                s.stats().clamps[static_cast<int>(ClampKind::kAcceleration)],
            0);
}

TEST_F(SafetyLayerTest, PositionLimitKeepsAMargin) {
  SafetyLayer s = Make();
  ::testing::internal::CaptureStderr();
  const kinematics::KinematicChain& chain = piper_.arms[0].chain;
  JointVector target = home_;
  target[0] = 3.0;  // upper 2.6179
  target[2] = 0.2;  // upper 0
  bool flagged = false;
  JointVector q;
  for (int t = 1; t <= 150; ++t) {
    SafetyDecision d = s.Filter(t * kPeriod, Act(target, 0.03), Fresh(t * kPeriod));
    flagged |= Has(d, ClampKind::kPosition);
    q = d.command.arms[0].joints;
    EXPECT_LE(q[0], chain.upper()[0] - 0.01 + kEps) << t;
    EXPECT_LE(q[2], chain.upper()[2] - 0.01 + kEps) << t;
  }
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("clamped: position"));
  EXPECT_TRUE(flagged);
  EXPECT_NEAR(q[0], chain.upper()[0] - 0.01, 1e-9);
  EXPECT_NEAR(q[2], chain.upper()[2] - 0.01, 1e-9);
}

TEST_F(SafetyLayerTest, GripperRangeAndSpeed) {
  SafetyLayer s = Make();  // starts at 0.03 m; range [0, 0.07]; 0.2 m/s -> 8 mm per tick
  double prev = 0.03;
  ::testing::internal::CaptureStderr();
  for (int t = 1; t <= 10; ++t) {
    SafetyDecision d = s.Filter(t * kPeriod, Act(home_, 0.1), Fresh(t * kPeriod));
    EXPECT_TRUE(Has(d, ClampKind::kGripper));
    const double g = d.command.arms[0].gripper;
    EXPECT_LE(g, 0.07 + kEps);
    EXPECT_LE(std::abs(g - prev), 0.2 * kDt + kEps);
    prev = g;
  }
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("clamped: gripper"));
  EXPECT_NEAR(prev, 0.07, 1e-12);
  SafetyDecision d = s.Filter(11 * kPeriod, Act(home_, -0.5), Fresh(11 * kPeriod));
  EXPECT_NEAR(d.command.arms[0].gripper, 0.07 - 0.008, 1e-12);
  EXPECT_EQ(s.stats().clamps[static_cast<int>(ClampKind::kGripper)], 11);
}

TEST_F(SafetyLayerTest, WorkspaceBoxStopsTheEndEffectorAtItsFace) {
  JointVector target = home_;
  target[1] += 0.3;
  const Eigen::Vector3d p0 = Ee(home_);
  const Eigen::Vector3d move = Ee(target) - p0;
  int k;
  move.cwiseAbs().maxCoeff(&k);
  ASSERT_GT(std::abs(move[k]), 0.05);
  Eigen::AlignedBox3d box(p0 - Eigen::Vector3d::Constant(0.5), p0 + Eigen::Vector3d::Constant(0.5));
  const double face = p0[k] + (move[k] > 0 ? 0.02 : -0.02);
  (move[k] > 0 ? box.max() : box.min())[k] = face;
  SafetyOptions o;
  o.workspace = {box};
  SafetyLayer s = Make(o);
  ::testing::internal::CaptureStderr();
  bool flagged = false;
  Eigen::Vector3d p;
  for (int t = 1; t <= 40; ++t) {
    SafetyDecision d = s.Filter(t * kPeriod, Act(target, 0.03), Fresh(t * kPeriod));
    flagged |= Has(d, ClampKind::kWorkspace);
    p = Ee(d.command.arms[0].joints);
    EXPECT_TRUE(box.contains(p)) << t << ": " << p.transpose();
  }
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("clamped: workspace"));
  EXPECT_TRUE(flagged);
  EXPECT_NEAR(p[k], face, 1e-3);  // stopped at the face, not short of it
  EXPECT_GT(s.stats().clamps[static_cast<int>(ClampKind::kWorkspace)], 0);
}

// Moves joint 0 at 1 rad/s, then applies `fault` for 10 ticks: the command must decelerate within
// the acceleration limit to rest, keep the gripper, then resume on fresh actions.
void ExpectHoldAndResume(SafetyLayer* s, const JointVector& home, HoldReason want,
                         const std::function<SafetyDecision(int64_t, const JointVector&)>& fault,
                         const std::function<void()>& clear = nullptr) {
  JointVector q = home, prev = home, before = home;
  int64_t now = 0;
  for (int t = 0; t < 30; ++t) {  // ramp up to 1 rad/s
    now += kPeriod;
    q[0] += 0.04;
    before = prev;
    prev = s->Filter(now, SafetyLayerTest::Act(q, 0.03), SafetyLayerTest::Fresh(now))
               .command.arms[0]
               .joints;
  }
  double v = (prev[0] - before[0]) / kDt;
  EXPECT_GT(v, 0.9);
  const int64_t holds_before = s->stats().holds[static_cast<int>(want)];
  for (int t = 0; t < 10; ++t) {
    now += kPeriod;
    SafetyDecision d = fault(now, q);
    EXPECT_EQ(d.hold, want) << HoldReasonName(d.hold);
    const JointVector& c = d.command.arms[0].joints;
    const double nv = (c[0] - prev[0]) / kDt;
    EXPECT_LE(std::abs(nv - v), 8.0 * kDt + 1e-6) << t;
    EXPECT_LE(nv, v + 1e-9) << t;
    EXPECT_DOUBLE_EQ(d.command.arms[0].gripper, 0.03);
    if (t >= 4) {
      EXPECT_NEAR(nv, 0.0, 1e-9) << "still moving after " << t << " hold ticks";
    }
    v = nv;
    prev = c;
  }
  EXPECT_EQ(s->stats().holds[static_cast<int>(want)], holds_before + 1);
  EXPECT_EQ(s->current_hold(), want);
  if (clear) clear();
  // Fresh actions resume: the arm moves toward them again.
  now += kPeriod;
  JointVector next = prev;
  next[0] += 0.004;
  SafetyDecision d = s->Filter(now, SafetyLayerTest::Act(next, 0.03), SafetyLayerTest::Fresh(now));
  EXPECT_EQ(d.hold, HoldReason::kNone);
  EXPECT_GT(d.command.arms[0].joints[0], prev[0]);
  EXPECT_EQ(s->current_hold(), HoldReason::kNone);
}

TEST_F(SafetyLayerTest, NonFiniteActionHolds) {
  SafetyLayer s = Make();
  ::testing::internal::CaptureStderr();
  ExpectHoldAndResume(&s, home_, HoldReason::kNonFinite, [&](int64_t now, JointVector q) {
    q[2] = std::numeric_limits<double>::quiet_NaN();
    return s.Filter(now, Act(q, 0.03), Fresh(now));
  });
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("hold started: non_finite"));
  EXPECT_THAT(log, HasSubstr("hold ended (non_finite) after 10 ticks"));
  // An infinite gripper and a wrong-shaped command are unusable too.
  SafetyDecision d = s.Filter(10000000, Act(home_, INFINITY), Fresh(10000000));
  EXPECT_EQ(d.hold, HoldReason::kNonFinite);
  d = s.Filter(10040000, Act(JointVector::Zero(5), 0.03), Fresh(10040000));
  EXPECT_EQ(d.hold, HoldReason::kNonFinite);
}

TEST_F(SafetyLayerTest, StaleChunkHolds) {
  SafetyOptions o;
  o.staleness_us = 500000;
  SafetyLayer s = Make(o);
  ::testing::internal::CaptureStderr();
  ExpectHoldAndResume(&s, home_, HoldReason::kStaleChunk, [&](int64_t now, JointVector q) {
    return s.Filter(now, Act(q, 0.03), PolicyHealth{true, now - 500001});
  });
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("hold started: stale_chunk (newest chunk's observation 500.0 ms old, bound 500.0 ms)"));
  // Exactly at the bound is still fresh.
  EXPECT_EQ(s.Filter(9000000, Act(home_, 0.03), PolicyHealth{true, 8500000}).hold,
            HoldReason::kNone);
}

TEST_F(SafetyLayerTest, LostServerHolds) {
  SafetyLayer s = Make();
  ExpectHoldAndResume(&s, home_, HoldReason::kServerLost, [&](int64_t now, JointVector q) {
    return s.Filter(now, Act(q, 0.03), PolicyHealth{false, now});
  });
}

TEST_F(SafetyLayerTest, NoActionHolds) {
  SafetyLayer s = Make();
  ExpectHoldAndResume(&s, home_, HoldReason::kNoAction, [&](int64_t now, JointVector) {
    return s.Filter(now, std::nullopt, Fresh(now));
  });
}

TEST_F(SafetyLayerTest, OperatorStopFromAnotherThreadHolds) {
  SafetyLayer s = Make();
  ExpectHoldAndResume(
      &s, home_, HoldReason::kOperatorStop,
      [&](int64_t now, JointVector q) {
        std::thread([&s] { s.SetOperatorStop(true); }).join();
        EXPECT_TRUE(s.operator_stop());
        return s.Filter(now, Act(q, 0.03), Fresh(now));
      },
      [&s] { s.SetOperatorStop(false); });
}

TEST_F(SafetyLayerTest, OperatorStopWinsUntilReleased) {
  SafetyLayer s = Make();
  s.SetOperatorStop(true);
  EXPECT_EQ(s.Filter(kPeriod, Act(home_, 0.03), PolicyHealth{false, 0}).hold,
            HoldReason::kOperatorStop);
  s.SetOperatorStop(false);
  EXPECT_EQ(s.Filter(2 * kPeriod, Act(home_, 0.03), Fresh(2 * kPeriod)).hold, HoldReason::kNone);
  EXPECT_EQ(s.stats().holds[static_cast<int>(HoldReason::kOperatorStop)], 1);
  EXPECT_STREQ(HoldReasonName(HoldReason::kStaleChunk), "stale_chunk");
  EXPECT_STREQ(ClampKindName(ClampKind::kVelocity), "velocity");
}

TEST_F(SafetyLayerTest, HoldNearALimitStopsBeforeIt) {
  SafetyLayer s = Make();
  const double upper = piper_.arms[0].chain.upper()[0] - 0.01;
  JointVector q = home_;
  q[0] = upper - 0.2;
  s.Reset(Reading(q, 0.03));
  int64_t now = 0;
  for (int t = 0; t < 60; ++t) {  // policy drives toward the limit at 1 rad/s, then vanishes
    now += kPeriod;
    q[0] += 0.04;
    std::optional<TimedAction> a = t < 5 ? Act(q, 0.03) : std::nullopt;
    SafetyDecision d = s.Filter(now, a, Fresh(now));
    EXPECT_LE(d.command.arms[0].joints[0], upper + kEps) << t;
  }
}

// Whatever the policy sends (jumps far beyond the limits, NaNs, gaps, stale chunks), every command
// stays inside the joint limits minus the margin and within the velocity and acceleration limits.
TEST_F(SafetyLayerTest, RandomPolicyOutputNeverBreaksALimit) {
  SafetyLayer s = Make();
  const kinematics::KinematicChain& chain = piper_.arms[0].chain;
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-4.0, 4.0);
  std::uniform_int_distribution<int> kind(0, 9);
  JointVector prev = home_, prev_v = JointVector::Zero(6), target = home_;
  ::testing::internal::CaptureStderr();
  for (int t = 1; t <= 3000; ++t) {
    const int64_t now = t * kPeriod;
    std::optional<TimedAction> a;
    PolicyHealth h = Fresh(now);
    switch (kind(rng)) {
      case 0:  // a wild jump anywhere, often beyond the limits
        for (int j = 0; j < 6; ++j) target[j] = u(rng);
        a = Act(target, u(rng));
        break;
      case 1:
        a = Act(target, std::numeric_limits<double>::quiet_NaN());
        break;
      case 2:
        h.newest_chunk_observed_us = now - 10 * kPeriod - 500000;  // stale
        a = Act(target, 0.03);
        break;
      case 3:
        break;  // no action
      default:  // small steps around the current target
        for (int j = 0; j < 6; ++j) target[j] += 0.02 * u(rng);
        a = Act(target, 0.035);
    }
    SafetyDecision d = s.Filter(now, a, h);
    const JointVector q = d.command.arms[0].joints;
    const JointVector v = (q - prev) / kDt;
    for (int j = 0; j < 6; ++j) {
      ASSERT_GE(q[j], chain.lower()[j] + 0.01 - kEps) << "tick " << t << " joint " << j;
      ASSERT_LE(q[j], chain.upper()[j] - 0.01 + kEps) << "tick " << t << " joint " << j;
      ASSERT_LE(std::abs(v[j]), 1.0 + 1e-6) << "tick " << t << " joint " << j;
      ASSERT_LE(std::abs(v[j] - prev_v[j]), 8.0 * kDt + 1e-6) << "tick " << t << " joint " << j;
    }
    const double g = d.command.arms[0].gripper;
    ASSERT_GE(g, 0.0);
    ASSERT_LE(g, 0.07);
    prev = q;
    prev_v = v;
  }
  // Hold lines are rate-limited: at most 5 per (fake) second over 120 s, the rest counted.
  const std::string log = ::testing::internal::GetCapturedStderr();
  int hold_lines = 0;
  for (size_t p = log.find(": hold "); p != std::string::npos; p = log.find(": hold ", p + 1)) {
    ++hold_lines;
  }
  EXPECT_GT(hold_lines, 100);
  EXPECT_LE(hold_lines, 5 * 121);
  EXPECT_THAT(log, HasSubstr("hold lines left out]"));
  EXPECT_GT(s.stats().hold_ticks, 600);
  EXPECT_GT(s.stats().clamps[static_cast<int>(ClampKind::kPosition)], 0);
}

}  // namespace
}  // namespace mivla::client
