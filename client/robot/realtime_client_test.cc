// File: realtime_client_test.cc
// Real-time chunking in the robot client, against an in-process fake PolicyService that offers it (or
// not) and answers each Act with a chunk holding the observed pose whose unified slot 0 (a human slot,
// unused by PiPER) numbers the chunk and step (chunk + 0.01 x step; the client sends values within +-10). On the lockstep sim driver with an
// emulated delay of 3 ticks: every Act after the first carries the robot's plan from the observation's
// tick on with inference_delay_steps 3, the plan is the previous chunk's steps in order, and the new
// chunk is spliced in after them (the executed steps run on, one per tick, none replayed or skipped).
#include <atomic>
#include <vector>

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "absl/synchronization/mutex.h"
#include "client/driver/sim_driver.h"
#include "client/robot/robot_client.h"
#include "core/util/log.h"
#include "gtest/gtest.h"

namespace mivla::client {
namespace {

struct SeenAct {
  uint32_t delay = 0;
  std::vector<float> committed_slot0;  // unified[0] of each committed step
};

class RtcPolicy final : public mivla::v1::PolicyService::Service {
 public:
  bool offers = true;

  grpc::Status GetPolicyInfo(grpc::ServerContext*, const mivla::v1::GetPolicyInfoRequest*,
                             mivla::v1::GetPolicyInfoResponse* resp) override {
    resp->set_realtime_chunking(offers);
    return grpc::Status::OK;
  }
  grpc::Status StartSession(grpc::ServerContext*, const mivla::v1::StartSessionRequest* req,
                            mivla::v1::StartSessionResponse* resp) override {
    absl::MutexLock l(&mu_);
    period_us_ = static_cast<int64_t>(1e6 / req->control_rate_hz());
    resp->set_session_id("rtc-session");
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
  grpc::Status Act(grpc::ServerContext*, const mivla::v1::ActRequest* req, mivla::v1::ActResponse* resp) override {
    absl::MutexLock l(&mu_);
    SeenAct seen;
    seen.delay = req->inference_delay_steps();
    for (const auto& s : req->committed_steps()) seen.committed_slot0.push_back(s.unified(0));
    seen_.push_back(seen);
    const int chunk = static_cast<int>(seen_.size());
    mivla::v1::ActionChunk* c = resp->mutable_chunk();
    c->set_embodiment(mivla::v1::PIPER);
    c->set_control_period_s(period_us_ * 1e-6);
    c->set_observation_id(observations_);
    for (int k = 0; k < 16; ++k) {
      mivla::v1::ActionStep* s = c->add_steps();
      s->set_timestamp_us(last_.timestamp_us() + k * period_us_);
      *s->mutable_right() = last_.proprioception().right();  // hold the observed pose
      for (int d = 0; d < action::kActionDim; ++d) s->add_unified(d == 0 ? chunk + 0.01f * k : 0.0f);
    }
    return grpc::Status::OK;
  }
  grpc::Status EndSession(grpc::ServerContext*, const mivla::v1::EndSessionRequest*,
                          mivla::v1::EndSessionResponse*) override {
    return grpc::Status::OK;
  }
  std::vector<SeenAct> seen() {
    absl::MutexLock l(&mu_);
    return seen_;
  }

 private:
  absl::Mutex mu_;
  int64_t period_us_ = 40000;
  uint64_t observations_ = 0;
  mivla::v1::ObserveRequest last_;
  std::vector<SeenAct> seen_;
};

class RealtimeClientTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogQuiet(true); }
  void Serve() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&fake_);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  // Runs `ticks` lockstep ticks; returns the chunk-unified slot 0 of the action executed at each tick.
  std::vector<uint64_t> Run(bool client_wants, int delay_ticks, int ticks, RobotClientStats* stats) {
    SimDriverOptions d;
    d.task = "press_bell";
    d.real_time = false;
    d.render = false;
    std::unique_ptr<SimDriver> sim = *SimDriver::Create(d);
    ConnectionOptions c;
    c.target = "127.0.0.1:" + std::to_string(port_);
    RobotClient::Options o;
    o.instruction = "ring the bell";
    o.task = "press_bell";
    o.scheduler.realtime_chunking = client_wants;
    o.scheduler.refill_threshold = 0.5;  // a refill every 8 ticks
    o.lockstep_delay_ticks = delay_ticks;
    auto rc = RobotClient::Create(sim.get(), *PolicyConnection::Create(c), nullptr, o);
    EXPECT_TRUE(rc.ok()) << rc.status();
    EXPECT_TRUE((*rc)->StartSession().ok());
    std::vector<uint64_t> chunk_of_tick;
    EXPECT_TRUE((*rc)->Run(ticks, [&](const TickInfo& t) {
                        chunk_of_tick.push_back(t.chunk_id);
                        return true;
                      }).ok());
    *stats = (*rc)->stats();
    (*rc)->Finish(nullptr).IgnoreError();
    return chunk_of_tick;
  }

  RtcPolicy fake_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(RealtimeClientTest, SendsItsPlanAndSplicesAfterTheDelay) {
  Serve();
  RobotClientStats stats;
  std::vector<uint64_t> chunks = Run(/*client_wants=*/true, /*delay_ticks=*/3, 60, &stats);
  const std::vector<SeenAct> seen = fake_.seen();
  ASSERT_GE(seen.size(), 5u);
  EXPECT_TRUE(seen[0].committed_slot0.empty()) << "nothing queued before the first chunk";
  for (size_t i = 1; i < seen.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(seen[i].delay, 3u);
    ASSERT_GE(seen[i].committed_slot0.size(), 3u);
    // The plan is the previous chunk's steps, consecutive, from the observation's tick on.
    const float first = seen[i].committed_slot0[0];
    EXPECT_EQ(static_cast<int>(first), static_cast<int>(i)) << "chunk " << i << "'s steps";
    for (size_t k = 0; k < seen[i].committed_slot0.size(); ++k) {
      EXPECT_NEAR(seen[i].committed_slot0[k], first + 0.01f * k, 1e-5);
    }
  }
  EXPECT_EQ(stats.guided_chunks, static_cast<int64_t>(seen.size()) - 1);
  EXPECT_EQ(stats.fresh_ticks, 57) << "holds only before the first chunk arrives (3 ticks): the committed steps cover "
                                       "every later delay";
  // Each tick executes one action and the chunk ids never go back (a spliced chunk takes over for good).
  ASSERT_EQ(chunks.size(), 60u);
  for (size_t k = 1; k < chunks.size(); ++k) EXPECT_GE(chunks[k], chunks[k - 1]);
  EXPECT_GT(chunks.back(), 3u);
}

TEST_F(RealtimeClientTest, OffWhenTheServerDoesNotOfferItOrTheClientSaysNo) {
  fake_.offers = false;
  Serve();
  RobotClientStats stats;
  Run(/*client_wants=*/true, 3, 30, &stats);
  for (const SeenAct& s : fake_.seen()) {
    EXPECT_TRUE(s.committed_slot0.empty());
    EXPECT_EQ(s.delay, 0u);
  }
  EXPECT_EQ(stats.guided_chunks, 0);
  fake_.offers = true;
  const size_t before = fake_.seen().size();
  Run(/*client_wants=*/false, 3, 30, &stats);
  const std::vector<SeenAct> seen = fake_.seen();
  ASSERT_GT(seen.size(), before);
  for (size_t i = before; i < seen.size(); ++i) EXPECT_TRUE(seen[i].committed_slot0.empty());
  EXPECT_EQ(stats.guided_chunks, 0);
}

}  // namespace
}  // namespace mivla::client
