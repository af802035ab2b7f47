// Real-time chunking in the server (issue 14): ActRequest.inference_delay_steps / committed_steps are
// checked (each error names its field), mapped onto the model's steps, and reach the runtime; on the fake
// runtime (which inpaints exactly) the chunk's first steps are the committed ones, a plain Act is
// untouched, and --realtime-chunking=false leaves sampling plain.
#include "server/inference/realtime_prefix.h"

#include <atomic>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/inference/policy_engine.h"
#include "server/inference/test_requests.h"
#include "server/runtime_api/fake_policy_runtime.h"
#include "server/session/session_manager.h"

namespace mivla::server {
namespace {

using action::Embodiment;
using ::testing::HasSubstr;
constexpr int kD = action::kActionDim;

// n steps whose value in every slot is 0.01 * (step + 1) + 0.001 * slot.
CommittedSteps Steps(int n) {
  CommittedSteps steps;
  for (int k = 0; k < n; ++k) {
    mivla::v1::ActionStep* s = steps.Add();
    for (int d = 0; d < kD; ++d) s->add_unified(0.01f * (k + 1) + 0.001f * d);
  }
  return steps;
}

TEST(RealtimePrefixTest, EqualPeriodsKeepTheSteps) {
  CommittedSteps steps = Steps(6);
  ModelPrefix p = ToModelPrefix(2, steps, 0.1, 0.1, 16);
  ASSERT_EQ(p.values.size(), 6u * kD);
  EXPECT_EQ(p.frozen_steps, 2);
  for (int h = 0; h < 6; ++h) EXPECT_EQ(p.values[h * kD + 5], steps[h].unified(5));
  EXPECT_EQ(ToModelPrefix(0, Steps(20), 0.1, 0.1, 16).values.size(), 16u * kD) << "at most the horizon";
  EXPECT_TRUE(ToModelPrefix(0, CommittedSteps(), 0.1, 0.1, 16).values.empty());
}

TEST(RealtimePrefixTest, StepsAreResampledOntoTheModelsSteps) {
  // Robot at 20 Hz, model at 10 Hz: model step h (at (h + 1) x 0.1 s) is committed step 2h + 1.
  CommittedSteps steps = Steps(8);
  ModelPrefix fast = ToModelPrefix(3, steps, 0.05, 0.1, 16);
  ASSERT_EQ(fast.values.size(), 4u * kD);
  EXPECT_EQ(fast.frozen_steps, 1) << "3 robot steps cover 0.15 s: one model step";
  for (int h = 0; h < 4; ++h) EXPECT_FLOAT_EQ(fast.values[h * kD], steps[2 * h + 1].unified(0));
  // Robot at 5 Hz: model step 2 (0.3 s) lies halfway between committed steps 0 (0.2 s) and 1 (0.4 s);
  // model step 0 (0.1 s) is before the first committed step and takes it.
  ModelPrefix slow = ToModelPrefix(1, steps, 0.2, 0.1, 16);
  ASSERT_EQ(slow.values.size(), 16u * kD) << "8 x 0.2 s cover 16 model steps";
  EXPECT_EQ(slow.frozen_steps, 2);
  EXPECT_FLOAT_EQ(slow.values[0], steps[0].unified(0));
  EXPECT_FLOAT_EQ(slow.values[1 * kD], steps[0].unified(0));
  EXPECT_FLOAT_EQ(slow.values[2 * kD], 0.5f * (steps[0].unified(0) + steps[1].unified(0)));
  EXPECT_FLOAT_EQ(slow.values[3 * kD], steps[1].unified(0));
}

TEST(RealtimePrefixTest, ExtremePeriodsStayWithinTheHorizon) {
  // Found by the request fuzzer: a control period of 1e300 s made n / ratio overflow int (UB).
  CommittedSteps steps = Steps(8);
  ModelPrefix slowest = ToModelPrefix(8, steps, 1e300, 0.1, 16);
  EXPECT_EQ(slowest.values.size(), 16u * kD);
  EXPECT_EQ(slowest.frozen_steps, 16);
  ModelPrefix fastest = ToModelPrefix(8, steps, 1e-300, 0.1, 16);
  EXPECT_TRUE(fastest.values.empty()) << "8 steps of 1e-300 s cover no model step";
  EXPECT_EQ(fastest.frozen_steps, 0);
}

TEST(RealtimePrefixTest, BadFieldsAreNamed) {
  const InputLimits limits;
  auto check = [&](uint32_t delay, const CommittedSteps& s, int max_steps = 16) {
    return ValidateCommittedSteps(delay, s, max_steps, limits);
  };
  EXPECT_TRUE(check(3, Steps(5)).ok());
  EXPECT_TRUE(check(0, Steps(0)).ok());
  absl::Status s = check(6, Steps(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("inference_delay_steps: 6 but committed_steps holds 5"));
  EXPECT_THAT(check(1, Steps(0)).message(), HasSubstr("inference_delay_steps"));
  EXPECT_THAT(check(0, Steps(17)).message(), HasSubstr("committed_steps: 17 steps; at most the session's chunk length, 16"));
  CommittedSteps short_step = Steps(3);
  short_step[1].mutable_unified()->RemoveLast();
  EXPECT_THAT(check(1, short_step).message(), HasSubstr("committed_steps[1].unified: 75 values; exactly 76"));
  CommittedSteps nan = Steps(3);
  nan[2].set_unified(40, std::numeric_limits<float>::quiet_NaN());
  EXPECT_THAT(check(1, nan).message(), HasSubstr("committed_steps[2].unified[40]: nan is not finite"));
  CommittedSteps big = Steps(3);
  big[0].set_unified(3, 11.0f);
  EXPECT_THAT(check(1, big).message(), HasSubstr("committed_steps[0].unified[3]: 11 is outside [-10, 10]"));
  CommittedSteps joint = Steps(3);
  joint[0].set_unified(action::kJointsRight.begin + action::kArmGripper, 0.5f);  // beyond PiPER's gripper
  EXPECT_TRUE(check(1, joint).ok()) << "the server's own values come back; the robot's safety layer clamps";
}

class RealtimeEngineTest : public ::testing::Test {
 protected:
  void Init(bool realtime_chunking) {
    ModelManager::Options mo;
    mo.random_init = true;
    mo.loader = std::make_shared<FakeRuntimeLoader>(FakeRuntimeOptions{});
    mo.warm_batch_size = 2;
    models_ = *ModelManager::Create(mo);
    ASSERT_TRUE(models_->Start().ok());
    sessions_ = *SessionManager::Create({});
    PolicyEngine::Options eo;
    eo.decode.max_queue_delay = eo.encode.max_queue_delay = absl::Milliseconds(1);
    eo.realtime_chunking = realtime_chunking;
    eo.on_guided_act = [this] { ++guided_; };
    engine_ = *PolicyEngine::Create(eo, models_.get());
    session_ = *sessions_->Start(testing::SpecFor(Embodiment::kPiper));
    mivla::v1::ObserveRequest obs = testing::ObserveFor(Embodiment::kPiper, session_->id(), 4);
    mivla::v1::ObserveResponse o;
    absl::Notification n;
    engine_->Observe(session_, &obs, &o, absl::InfiniteFuture(), [&](absl::Status s) {
      ASSERT_TRUE(s.ok()) << s;
      n.Notify();
    });
    n.WaitForNotification();
  }
  absl::Status Act(const mivla::v1::ActRequest& r, mivla::v1::ActResponse* resp) {
    absl::Notification n;
    absl::Status out;
    engine_->Act(session_, &r, resp, absl::InfiniteFuture(), [&](absl::Status s) {
      out = s;
      n.Notify();
    });
    n.WaitForNotification();
    return out;
  }

  std::unique_ptr<ModelManager> models_;
  std::unique_ptr<SessionManager> sessions_;
  std::unique_ptr<PolicyEngine> engine_;
  std::shared_ptr<Session> session_;
  std::atomic<int> guided_{0};
};

TEST_F(RealtimeEngineTest, CommittedStepsReachTheRuntimeAndAreCounted) {
  Init(/*realtime_chunking=*/true);
  mivla::v1::ActRequest plain_req;
  plain_req.set_seed(3);
  mivla::v1::ActResponse plain, previous;
  ASSERT_TRUE(Act(plain_req, &plain).ok());
  mivla::v1::ActRequest prev_req;
  prev_req.set_seed(9);
  ASSERT_TRUE(Act(prev_req, &previous).ok());
  // The robot executed 4 steps of `previous` and commits to its next 8, 3 of them during inference.
  mivla::v1::ActRequest req;
  req.set_seed(3);
  req.set_inference_delay_steps(3);
  for (int k = 4; k < 12; ++k) *req.add_committed_steps() = previous.chunk().steps(k);
  mivla::v1::ActResponse guided;
  ASSERT_TRUE(Act(req, &guided).ok());
  EXPECT_EQ(guided_.load(), 1);
  const action::ActionMask mask = action::EmbodimentMask(Embodiment::kPiper);
  ASSERT_EQ(guided.chunk().steps_size(), plain.chunk().steps_size());
  for (int k = 0; k < 3; ++k) {
    for (int d = 0; d < kD; ++d) {
      if (mask.test(d)) {
        EXPECT_FLOAT_EQ(guided.chunk().steps(k).unified(d), req.committed_steps(k).unified(d));
      }
    }
  }
  // Across the overlap the chunk moves from the committed plan to its own; after it, its own.
  bool differs = false;
  for (int d = 0; d < kD; ++d) differs |= guided.chunk().steps(5).unified(d) != plain.chunk().steps(5).unified(d);
  EXPECT_TRUE(differs);
  for (int k = 8; k < plain.chunk().steps_size(); ++k) {
    for (int d = 0; d < kD; ++d) EXPECT_EQ(guided.chunk().steps(k).unified(d), plain.chunk().steps(k).unified(d));
  }
  // A bad request is refused before any work, naming the field.
  mivla::v1::ActRequest bad = req;
  bad.set_inference_delay_steps(9);
  mivla::v1::ActResponse r;
  absl::Status s = Act(bad, &r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("inference_delay_steps"));
  for (int k = 0; k < 10; ++k) *bad.add_committed_steps() = previous.chunk().steps(0);
  bad.set_inference_delay_steps(0);
  EXPECT_THAT(Act(bad, &r).message(), HasSubstr("at most the session's chunk length, 16"));
  EXPECT_EQ(guided_.load(), 1);
}

TEST_F(RealtimeEngineTest, SwitchedOffTheFieldsAreCheckedThenIgnored) {
  Init(/*realtime_chunking=*/false);
  mivla::v1::ActRequest plain_req;
  plain_req.set_seed(3);
  mivla::v1::ActResponse plain, guided;
  ASSERT_TRUE(Act(plain_req, &plain).ok());
  mivla::v1::ActRequest req = plain_req;
  req.set_inference_delay_steps(2);
  for (int k = 0; k < 4; ++k) *req.add_committed_steps() = plain.chunk().steps(15 - k);
  ASSERT_TRUE(Act(req, &guided).ok());
  for (int k = 0; k < plain.chunk().steps_size(); ++k) {
    for (int d = 0; d < kD; ++d) EXPECT_EQ(guided.chunk().steps(k).unified(d), plain.chunk().steps(k).unified(d));
  }
  EXPECT_EQ(guided_.load(), 0);
  req.mutable_committed_steps(1)->set_unified(0, std::numeric_limits<float>::infinity());
  EXPECT_THAT(Act(req, &guided).message(), HasSubstr("committed_steps[1].unified[0]: inf is not finite"));
}

}  // namespace
}  // namespace mivla::server
