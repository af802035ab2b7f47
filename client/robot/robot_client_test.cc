// File: robot_client_test.cc
// The control loop against an in-process fake PolicyService (a test double that answers every Act with a
// chunk holding the observed pose, with switches for a slow or overloaded server), on the real-time sim
// driver: a fast server feeds nearly every tick; a slow one makes the robot hold (no action, then a
// stale chunk) without declaring the server lost, and it recovers; RESOURCE_EXHAUSTED is a refusal, not
// a lost server.
#include "client/robot/robot_client.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "absl/synchronization/mutex.h"
#include "client/driver/sim_driver.h"
#include "core/metrics/text_format.h"
#include "core/util/log.h"
#include "gtest/gtest.h"

namespace mivla::client {
namespace {

class FakePolicy final : public mivla::v1::PolicyService::Service {
 public:
  std::atomic<int> act_delay_ms{0};
  std::atomic<bool> exhausted{false};
  std::atomic<int> acts{0};
  std::atomic<int> refuse_next{0};      // RESOURCE_EXHAUSTED for this many more Acts
  std::atomic<int> refused{0};
  std::atomic<bool> unauthenticated{false};

  grpc::Status StartSession(grpc::ServerContext*, const mivla::v1::StartSessionRequest* req,
                            mivla::v1::StartSessionResponse* resp) override {
    absl::MutexLock l(&mu_);
    period_us_ = static_cast<int64_t>(1e6 / req->control_rate_hz());
    resp->set_session_id("fake-session");
    resp->set_action_horizon(16);
    resp->set_control_period_s(period_us_ * 1e-6);
    return grpc::Status::OK;
  }
  grpc::Status Observe(grpc::ServerContext*, const mivla::v1::ObserveRequest* req,
                       mivla::v1::ObserveResponse* resp) override {
    absl::MutexLock l(&mu_);
    last_ = *req;
    resp->set_observation_id(++observations_);
    return grpc::Status::OK;
  }
  grpc::Status Act(grpc::ServerContext*, const mivla::v1::ActRequest*, mivla::v1::ActResponse* resp) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(act_delay_ms.load()));
    if (exhausted.load()) return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full");
    if (unauthenticated.load()) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token revoked");
    if (refuse_next.load() > 0) {
      --refuse_next;
      ++refused;
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full");
    }
    ++acts;
    absl::MutexLock l(&mu_);
    mivla::v1::ActionChunk* c = resp->mutable_chunk();
    c->set_embodiment(mivla::v1::PIPER);
    c->set_control_period_s(period_us_ * 1e-6);
    c->set_observation_id(observations_);
    for (int k = 0; k < 16; ++k) {
      mivla::v1::ActionStep* s = c->add_steps();
      s->set_timestamp_us(last_.timestamp_us() + k * period_us_);
      *s->mutable_right() = last_.proprioception().right();  // hold the observed pose
    }
    return grpc::Status::OK;
  }
  grpc::Status EndSession(grpc::ServerContext*, const mivla::v1::EndSessionRequest*,
                          mivla::v1::EndSessionResponse*) override {
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  int64_t period_us_ = 40000;
  uint64_t observations_ = 0;
  mivla::v1::ObserveRequest last_;
};

// The sim driver with one Read that stalls (a hiccup of the bus or the OS).
class StallingDriver final : public RobotDriver {
 public:
  StallingDriver(RobotDriver* inner, int stall_at_read, int stall_ms)
      : inner_(inner), stall_at_(stall_at_read), stall_ms_(stall_ms) {}
  const kinematics::EmbodimentDescription& embodiment() const override { return inner_->embodiment(); }
  std::vector<CameraLayout> cameras() const override { return inner_->cameras(); }
  double control_period_s() const override { return inner_->control_period_s(); }
  absl::Status Start() override { return inner_->Start(); }
  absl::StatusOr<RobotReading> Read(bool with_images) override {
    if (++reads_ == stall_at_) std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms_));
    return inner_->Read(with_images);
  }
  absl::Status Command(const RobotCommand& c) override { return inner_->Command(c); }
  absl::Status Stop() override { return inner_->Stop(); }
  int64_t NowUs() const override { return inner_->NowUs(); }
  bool simulated_clock() const override { return inner_->simulated_clock(); }

 private:
  RobotDriver* inner_;
  int reads_ = 0;
  const int stall_at_, stall_ms_;
};

class RobotClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogQuiet(true);
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&fake_);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    SimDriverOptions d;
    d.task = "press_bell";
    d.real_time = true;
    d.render = false;
    driver_ = *SimDriver::Create(d);
  }
  void TearDown() override { server_->Shutdown(); }
  double MetricValueOf(const std::string& name) {
    return metrics::SampleValue(registry_.Expose(), name).value_or(-1.0);  // -1: absent
  }

  std::unique_ptr<RobotClient> Client(RobotDriver* driver = nullptr, int64_t rpc_timeout_ms = 3000,
                                      int64_t lockstep_give_up_ms = 60000, GripperLatchOptions gripper = {}) {
    ConnectionOptions c;
    c.target = "127.0.0.1:" + std::to_string(port_);
    c.rpc_timeout_ms = rpc_timeout_ms;
    c.backoff = {20, 200, 2.0};  // refusals are retried within 0.2 s
    RobotClient::Options o;
    o.instruction = "ring the bell";
    o.task = "press_bell";
    o.record_ticks = true;
    o.lockstep_give_up_ms = lockstep_give_up_ms;
    o.safety.staleness_us = 500000;  // these tests' timings (a 540 ms Act is stale) were chosen for 0.5 s
    o.gripper = gripper;
    absl::StatusOr<std::unique_ptr<RobotClient>> rc =
        RobotClient::Create(driver != nullptr ? driver : driver_.get(), *PolicyConnection::Create(c), metrics_.get(), o);
    EXPECT_TRUE(rc.ok()) << rc.status();
    EXPECT_TRUE((*rc)->StartSession().ok());
    return std::move(*rc);
  }

  FakePolicy fake_;
  metrics::Registry registry_;
  std::unique_ptr<ClientMetrics> metrics_ = *ClientMetrics::Create(&registry_);
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<SimDriver> driver_;
};

TEST_F(RobotClientTest, FastServerFeedsNearlyEveryTick) {
  std::unique_ptr<RobotClient> rc = Client();
  ASSERT_TRUE(rc->Run(75).ok());  // 3 s at 25 Hz
  const RobotClientStats s = rc->stats();
  EXPECT_EQ(s.ticks, 75);
  EXPECT_GE(s.fresh_ticks, 72) << "fresh " << s.fresh_ticks;
  EXPECT_GE(s.chunks, 75 / 8);  // a refill every 8 ticks (threshold 0.5 of 16)
  EXPECT_EQ(s.failed_requests, 0);
  EXPECT_TRUE(rc->Finish(nullptr).ok());
}

TEST_F(RobotClientTest, TheGraspLatchSendsGrippersBelowItsThresholdClosed) {
  // The fake server's chunks hold the observed gripper opening (open, up to the range's end, 0.07 m); with
  // the latch's threshold at 0.07 every action below it is sent fully closed, within the safety layer's
  // gripper speed, and the gripper then stays closed (the chunks hold the closed opening).
  const double closed = driver_->embodiment().arms[0].gripper.min_m;
  std::unique_ptr<RobotClient> rc = Client(nullptr, 3000, 60000, {0.07, std::nullopt});
  double first_sent = -1, last_sent = -1;
  int actions = 0, latched = 0, open = 0;
  ASSERT_TRUE(rc->Run(50, [&](const TickInfo& t) {
                  if (t.action != nullptr) {
                    ++actions;
                    if (t.action->arms[0].gripper == closed) ++latched;
                    if (t.action->arms[0].gripper >= 0.07) ++open;  // not below the threshold: as sent
                  }
                  if (t.hold == HoldReason::kNone) {
                    if (first_sent < 0) first_sent = t.command->arms[0].gripper;
                    last_sent = t.command->arms[0].gripper;
                  }
                  return true;
                }).ok());
  const RobotClientStats s = rc->stats();
  EXPECT_GT(actions, 40);
  EXPECT_EQ(latched + open, actions);
  EXPECT_GT(latched, actions / 2);
  EXPECT_EQ(s.gripper_latched_ticks, latched);
  EXPECT_GT(first_sent, 0.05) << "the first closing step is limited by max_gripper_velocity";
  EXPECT_EQ(last_sent, closed);
  absl::StatusOr<RobotReading> r = driver_->Read(false);
  ASSERT_TRUE(r.ok());
  EXPECT_LT(r->arms[0].gripper, 0.01) << "the sim gripper closed on nothing";
  EXPECT_TRUE(rc->Finish(nullptr).ok());
}

TEST_F(RobotClientTest, SlowServerMeansHoldNotLostAndRecovers) {
  std::unique_ptr<RobotClient> rc = Client();
  int64_t first_hold = -1, resumed = -1;
  ASSERT_TRUE(rc->Run(150, [&](const TickInfo& t) {
                  if (t.tick == 20) fake_.act_delay_ms.store(1200);  // the queue (320 ms) and staleness (500 ms) run out
                  if (t.tick == 60) fake_.act_delay_ms.store(0);
                  if (t.tick > 20 && t.hold != HoldReason::kNone && first_hold < 0) first_hold = t.tick;
                  if (first_hold >= 0 && t.hold == HoldReason::kNone && resumed < 0) resumed = t.tick;
                  return true;
                }).ok());
  const SafetyLayer::Stats& st = rc->safety().stats();
  EXPECT_GE(first_hold, 21);
  EXPECT_GE(st.holds[static_cast<int>(HoldReason::kNoAction)] + st.holds[static_cast<int>(HoldReason::kStaleChunk)], 1);
  EXPECT_GE(st.holds[static_cast<int>(HoldReason::kStaleChunk)], 1);
  EXPECT_EQ(st.holds[static_cast<int>(HoldReason::kServerLost)], 0);
  EXPECT_EQ(rc->stats().reconnects, 0);
  ASSERT_GE(resumed, 60) << "never resumed";
  EXPECT_LT(resumed, 120);
  rc->Finish(nullptr).IgnoreError();
}

TEST_F(RobotClientTest, OverloadIsARefusalNotALostServer) {
  std::unique_ptr<RobotClient> rc = Client();
  int acts_at_end_of_overload = 0, held_at_the_end = 0;
  ASSERT_TRUE(rc->Run(125, [&](const TickInfo& t) {
                  if (t.tick == 10) fake_.exhausted.store(true);
                  if (t.tick == 40) {
                    fake_.exhausted.store(false);
                    acts_at_end_of_overload = fake_.acts.load();
                  }
                  if (t.tick >= 100 && t.hold != HoldReason::kNone) ++held_at_the_end;
                  return true;
                }).ok());
  const RobotClientStats s = rc->stats();
  EXPECT_GE(s.failed_requests, 1);
  EXPECT_EQ(s.reconnects, 0);
  EXPECT_EQ(rc->safety().stats().holds[static_cast<int>(HoldReason::kServerLost)], 0);
  EXPECT_GE(fake_.acts.load(), acts_at_end_of_overload + 3);  // chunks again after the overload (paced
  EXPECT_EQ(held_at_the_end, 0);                             // by a backoff while it lasted)
  rc->Finish(nullptr).IgnoreError();
}

// A Read that stalls for 150 ms (almost four periods) makes the next tick late; the deadlines that went
// by are skipped and counted, not run back to back: ticks stay a period apart (less the wake-up
// tolerance), and the loop goes on at its rate.
TEST_F(RobotClientTest, AStalledReadSkipsMissedDeadlinesInsteadOfBursting) {
  StallingDriver stalling(driver_.get(), 20, 150);
  std::unique_ptr<RobotClient> rc = Client(&stalling);
  ASSERT_TRUE(rc->Run(50).ok());
  const RobotClientStats s = rc->stats();
  ASSERT_EQ(s.tick_start_us.size(), 50u);
  const int64_t period_us = 40000;
  int64_t min_gap = INT64_MAX, max_gap = 0;
  for (size_t i = 1; i < s.tick_start_us.size(); ++i) {
    const int64_t gap = s.tick_start_us[i] - s.tick_start_us[i - 1];
    min_gap = std::min(min_gap, gap);
    max_gap = std::max(max_gap, gap);
  }
  // The late tolerance is a tenth of a period; 1 ms more for the wake-up of a loaded machine.
  EXPECT_GE(min_gap, period_us - period_us / 10 - 1000) << "catch-up burst: ticks " << min_gap << " us apart";
  EXPECT_GE(max_gap, 150000) << "the stall was not seen";
  EXPECT_GE(s.missed_deadlines, 3) << "150 ms stall at 40 ms per tick";
  EXPECT_GE(MetricValueOf("mivla_client_missed_deadlines_total"), 3.0);
  rc->Finish(nullptr).IgnoreError();
}

// Staleness counts from the observation: chunks that arrive 540 ms after their observation (bound
// 500 ms) are stale on arrival, so the robot holds (stale_chunk) although a few of their steps would
// still be in time.
TEST_F(RobotClientTest, AChunkIsAsOldAsItsObservation) {
  std::unique_ptr<RobotClient> rc = Client();
  int fresh_while_slow = 0, fresh_at_the_end = 0;
  ASSERT_TRUE(rc->Run(110, [&](const TickInfo& t) {
                  if (t.tick == 10) fake_.act_delay_ms.store(540);
                  if (t.tick == 70) fake_.act_delay_ms.store(0);
                  if (t.tick >= 35 && t.tick < 70 && t.hold == HoldReason::kNone) ++fresh_while_slow;
                  if (t.tick >= 95 && t.hold == HoldReason::kNone) ++fresh_at_the_end;
                  return true;
                }).ok());
  EXPECT_EQ(fresh_while_slow, 0);
  EXPECT_GE(rc->safety().stats().holds[static_cast<int>(HoldReason::kStaleChunk)], 1);
  EXPECT_GE(fresh_at_the_end, 10);
  rc->Finish(nullptr).IgnoreError();
}

std::unique_ptr<SimDriver> LockstepDriver() {
  SimDriverOptions d;
  d.task = "press_bell";
  d.real_time = false;
  d.render = false;
  return *SimDriver::Create(d);
}

// Lockstep (simulated clock): three refusals in a row block the refill (with backoff) until the fourth
// try answers; no hold tick is simulated meanwhile and simulated time advances exactly one period a tick.
TEST_F(RobotClientTest, LockstepWaitsOutRefusalsWithoutAdvancingSimulatedTime) {
  std::unique_ptr<SimDriver> sim = LockstepDriver();
  std::unique_ptr<RobotClient> rc = Client(sim.get());
  const int64_t t0 = sim->NowUs();
  ASSERT_TRUE(rc->Run(40, [&](const TickInfo& t) {
                  if (t.tick == 10) fake_.refuse_next.store(3);
                  return true;
                }).ok());
  const RobotClientStats s = rc->stats();
  EXPECT_EQ(fake_.refused.load(), 3);
  EXPECT_EQ(s.failed_requests, 3);
  EXPECT_EQ(s.ticks, 40);
  EXPECT_EQ(s.fresh_ticks, 40) << "a hold tick ran while the server refused";
  EXPECT_EQ(rc->safety().stats().hold_ticks, 0);
  EXPECT_EQ(s.reconnects, 0);
  EXPECT_EQ(sim->NowUs() - t0, 40 * 40000);
  rc->Finish(nullptr).IgnoreError();
}

// Lockstep against a server that keeps refusing: Run gives up after lockstep_give_up_ms with a reason.
TEST_F(RobotClientTest, LockstepGivesUpOnAServerThatNeverAnswers) {
  std::unique_ptr<SimDriver> sim = LockstepDriver();
  std::unique_ptr<RobotClient> rc = Client(sim.get(), 3000, /*lockstep_give_up_ms=*/300);
  const absl::Status st = rc->Run(40, [&](const TickInfo& t) {
    if (t.tick == 10) fake_.refuse_next.store(1 << 20);
    return true;
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(st.message().find("lockstep_give_up_ms"), std::string::npos) << st;
  EXPECT_NE(st.message().find("RESOURCE_EXHAUSTED"), std::string::npos) << st;
  EXPECT_LT(rc->stats().ticks, 40);
  EXPECT_EQ(rc->safety().stats().hold_ticks, 0);
  rc->Finish(nullptr).IgnoreError();
}

// A slow but alive server (Act past the call deadline) is a failed request with backoff, not a lost
// server: no new session, no server-lost hold, and chunks again once it is fast.
TEST_F(RobotClientTest, DeadlineFromASlowServerIsNotALostServer) {
  std::unique_ptr<RobotClient> rc = Client(nullptr, /*rpc_timeout_ms=*/250);
  int fresh_at_the_end = 0;
  ASSERT_TRUE(rc->Run(100, [&](const TickInfo& t) {
                  if (t.tick == 10) fake_.act_delay_ms.store(600);
                  if (t.tick == 40) fake_.act_delay_ms.store(0);
                  if (t.tick >= 85 && t.hold == HoldReason::kNone) ++fresh_at_the_end;
                  return true;
                }).ok());
  const RobotClientStats s = rc->stats();
  EXPECT_GE(s.failed_requests, 1);
  EXPECT_EQ(s.reconnects, 0);
  EXPECT_EQ(rc->safety().stats().holds[static_cast<int>(HoldReason::kServerLost)], 0);
  EXPECT_GE(fresh_at_the_end, 10);
  rc->Finish(nullptr).IgnoreError();
}

// Credentials refused mid-run: the run ends with an error that says so instead of reconnecting forever.
TEST_F(RobotClientTest, UnauthenticatedEndsTheRun) {
  std::unique_ptr<RobotClient> rc = Client();
  const absl::Status st = rc->Run(200, [&](const TickInfo& t) {
    if (t.tick == 10) fake_.unauthenticated.store(true);
    return true;
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
  EXPECT_NE(st.message().find("not reconnecting"), std::string::npos) << st;
  EXPECT_LT(rc->stats().ticks, 60);  // ended within about a refill's wait
  EXPECT_EQ(rc->stats().reconnects, 0);
  rc->Finish(nullptr).IgnoreError();
}

}  // namespace
}  // namespace mivla::client
