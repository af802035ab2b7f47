// Integration tests over a real loopback socket: every RPC (the stream included), health, malformed
// inputs (INVALID_ARGUMENT naming the field, other sessions unaffected), sessions, metrics, shutdown.
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/inference/observation_input.h"
#include "server/inference/test_requests.h"
#include "server/service/service_test_util.h"

namespace mivla::server {
namespace {

using action::Embodiment;
using ::testing::HasSubstr;
using ::testing::Not;
namespace t = ::mivla::server::testing;

class ServiceTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o = t::LoopbackOptions()) {
    auto s = t::StartLoopback(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    s_ = *std::move(s);
  }
  std::string NewSession(Embodiment e) {
    grpc::ClientContext ctx;
    mivla::v1::StartSessionResponse resp;
    grpc::Status st = s_.stub->StartSession(&ctx, t::StartRequest(e), &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.session_id();
  }
  grpc::Status Observe(const mivla::v1::ObserveRequest& r, mivla::v1::ObserveResponse* resp = nullptr) {
    grpc::ClientContext ctx;
    mivla::v1::ObserveResponse local;
    return s_.stub->Observe(&ctx, r, resp ? resp : &local);
  }
  grpc::Status Act(const std::string& id, uint64_t seed, mivla::v1::ActResponse* resp) {
    grpc::ClientContext ctx;
    mivla::v1::ActRequest r;
    r.set_session_id(id);
    r.set_seed(seed);
    return s_.stub->Act(&ctx, r, resp);
  }
  t::LoopbackServer s_;
};

TEST_F(ServiceTest, EveryUnaryRpcAndHealth) {
  Start();
  EXPECT_EQ(t::HealthStatus(s_.channel.get(), ""), 1);
  EXPECT_EQ(t::HealthStatus(s_.channel.get(), "mivla.v1.PolicyService"), 1);

  grpc::ClientContext info_ctx;
  mivla::v1::GetPolicyInfoResponse info;
  ASSERT_TRUE(s_.stub->GetPolicyInfo(&info_ctx, {}, &info).ok());
  EXPECT_EQ(info.config_name(), "tiny");
  EXPECT_EQ(info.action_dim(), 76u);
  EXPECT_EQ(info.embodiments_size(), 5);
  EXPECT_THAT(info.config_json(), HasSubstr("\"decoder\""));

  grpc::ClientContext start_ctx;
  mivla::v1::StartSessionResponse started;
  auto start_req = t::StartRequest(Embodiment::kAlohaAgilex);
  start_req.set_control_rate_hz(50);
  ASSERT_TRUE(s_.stub->StartSession(&start_ctx, start_req, &started).ok());
  // The model's 16 steps at 10 Hz, resampled onto the session's 50 Hz: 80 steps per chunk.
  EXPECT_EQ(info.action_horizon(), 16u);
  EXPECT_EQ(started.action_horizon(), 80u);
  EXPECT_DOUBLE_EQ(started.control_period_s(), 0.02);
  EXPECT_GT(started.idle_timeout_us(), 0);

  mivla::v1::ObserveResponse o;
  ASSERT_TRUE(Observe(t::ObserveFor(Embodiment::kAlohaAgilex, started.session_id(), 1), &o).ok());
  EXPECT_EQ(o.observation_id(), 1u);
  EXPECT_GT(o.timing().encode_us(), 0);
  mivla::v1::ActResponse a;
  ASSERT_TRUE(Act(started.session_id(), 11, &a).ok());
  EXPECT_EQ(a.chunk().embodiment(), mivla::v1::ALOHA_AGILEX);
  ASSERT_EQ(a.chunk().steps_size(), static_cast<int>(started.action_horizon()));
  EXPECT_EQ(a.chunk().steps(1).timestamp_us() - a.chunk().steps(0).timestamp_us(), 20000);
  EXPECT_EQ(a.chunk().steps(0).left().joint_positions_size(), 6);
  EXPECT_EQ(a.chunk().steps(3).timestamp_us() - a.chunk().steps(0).timestamp_us(), 60000);
  EXPECT_EQ(a.model_version(), info.model_version());
  EXPECT_GT(a.timing().total_us(), 0);

  grpc::ClientContext rep_ctx;
  mivla::v1::ReportEpisodeRequest rep;
  rep.set_session_id(started.session_id());
  rep.set_success(true);
  rep.set_completeness(1.0);
  rep.set_duration_s(12.5);
  mivla::v1::ReportEpisodeResponse rep_resp;
  ASSERT_TRUE(s_.stub->ReportEpisode(&rep_ctx, rep, &rep_resp).ok());
  const std::string metrics = s_.server->registry().Expose();
  EXPECT_THAT(metrics, HasSubstr("mivla_episode_successes_total{embodiment=\"ALOHA_AGILEX\",task=\"press_bell\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("mivla_requests_total{rpc=\"Act\",code=\"OK\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("mivla_active_sessions{embodiment=\"ALOHA_AGILEX\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("mivla_late_acts_total 0")) << "no deadline_us: never late";
  EXPECT_THAT(metrics, HasSubstr("mivla_heap_released_bytes_total 0")) << "small requests: nothing to give back";

  grpc::ClientContext end_ctx;
  mivla::v1::EndSessionRequest end;
  end.set_session_id(started.session_id());
  mivla::v1::EndSessionResponse end_resp;
  ASSERT_TRUE(s_.stub->EndSession(&end_ctx, end, &end_resp).ok());
  grpc::Status gone = Observe(t::ObserveFor(Embodiment::kAlohaAgilex, started.session_id(), 2));
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(gone.error_message(), HasSubstr("session_id"));
}

TEST_F(ServiceTest, StreamAnswersInOrderAndEndsOnBadInput) {
  Start();
  const std::string id = NewSession(Embodiment::kLocoman);
  grpc::ClientContext ctx;
  auto stream = s_.stub->StreamAct(&ctx);
  for (uint64_t i = 1; i <= 4; ++i) {
    mivla::v1::StreamActRequest req;
    *req.mutable_observation() = t::ObserveFor(Embodiment::kLocoman, id, i);
    req.set_want_action(i % 2 == 0);
    req.set_seed(i);
    ASSERT_TRUE(stream->Write(req));
    mivla::v1::StreamActResponse resp;
    ASSERT_TRUE(stream->Read(&resp));
    EXPECT_EQ(resp.observation_id(), i);
    EXPECT_EQ(resp.has_action(), i % 2 == 0);
    if (resp.has_action()) {
      EXPECT_EQ(resp.action().chunk().observation_id(), i);
      EXPECT_EQ(resp.action().chunk().embodiment(), mivla::v1::LOCOMAN);
    }
  }
  mivla::v1::StreamActRequest bad;
  *bad.mutable_observation() = t::ObserveFor(Embodiment::kLocoman, id, 9);
  bad.mutable_observation()->mutable_proprioception()->mutable_left()->clear_joint_positions();
  ASSERT_TRUE(stream->Write(bad));
  mivla::v1::StreamActResponse resp;
  EXPECT_FALSE(stream->Read(&resp));
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("proprioception.left.joint_positions"));
}

TEST_F(ServiceTest, MalformedInputsAreInvalidArgumentAndOthersKeepBeingServed) {
  Start();
  const std::string good = NewSession(Embodiment::kPiper);
  const std::string victim = NewSession(Embodiment::kArx5);
  std::atomic<bool> stop{false};
  std::atomic<int> good_ok{0}, good_failed{0};
  std::thread other([&] {  // another robot keeps working throughout
    for (uint64_t i = 1; !stop.load(); ++i) {
      mivla::v1::ActResponse a;
      bool ok = Observe(t::ObserveFor(Embodiment::kPiper, good, i)).ok() && Act(good, i, &a).ok();
      (ok ? good_ok : good_failed)++;
    }
  });
  struct Case {
    std::string what;
    std::function<void(mivla::v1::ObserveRequest*)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"NaN joint", [](auto* r) { r->mutable_proprioception()->mutable_right()->set_joint_positions(1, NAN); },
       "proprioception.right.joint_positions[1]"},
      {"Inf gripper", [](auto* r) { r->mutable_proprioception()->mutable_right()->set_gripper(INFINITY); },
       "proprioception.right.gripper"},
      {"wrong proprio length", [](auto* r) { r->mutable_proprioception()->mutable_right()->add_joint_positions(0); },
       "proprioception.right.joint_positions"},
      {"undecodable image", [](auto* r) { r->mutable_images(1)->set_data("\xff\xd8 broken jpeg"); }, "images[1].data"},
      {"missing image", [](auto* r) { r->mutable_images()->RemoveLast(); }, "images"},
      {"unknown encoding", [](auto* r) { r->mutable_images(0)->set_encoding(static_cast<mivla::v1::ImageEncoding>(9)); },
       "images[0].encoding"},
      {"instruction too long", [](auto* r) { r->set_instruction(std::string(5000, 'x')); }, "instruction"},
      {"oversized image", [](auto* r) { r->mutable_images(0)->set_data(std::string(9 << 20, 'x')); }, "images[0].data"},
  };
  for (const Case& c : cases) {
    auto r = t::ObserveFor(Embodiment::kArx5, victim, 1);
    c.mutate(&r);
    grpc::Status st = Observe(r);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what << ": " << st.error_message();
    EXPECT_THAT(st.error_message(), HasSubstr(c.field)) << c.what;
  }
  // Unknown embodiment at StartSession, an unknown session elsewhere.
  auto start = t::StartRequest(Embodiment::kPiper);
  start.set_embodiment(static_cast<mivla::v1::Embodiment>(17));
  grpc::ClientContext ctx;
  mivla::v1::StartSessionResponse sr;
  grpc::Status st = s_.stub->StartSession(&ctx, start, &sr);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("embodiment"));
  mivla::v1::ActResponse a;
  EXPECT_EQ(Act("no-such-session", 1, &a).error_code(), grpc::StatusCode::NOT_FOUND);
  // The victim session itself still works with a good request.
  EXPECT_TRUE(Observe(t::ObserveFor(Embodiment::kArx5, victim, 2)).ok());
  EXPECT_TRUE(Act(victim, 1, &a).ok());
  absl::SleepFor(absl::Milliseconds(200));
  stop = true;
  other.join();
  EXPECT_GT(good_ok.load(), 0);
  EXPECT_EQ(good_failed.load(), 0);
}

TEST_F(ServiceTest, MessagesOverTheSizeLimitAreRefusedAndTheServerGoesOn) {
  ServerOptions o = t::LoopbackOptions();
  o.max_message_bytes = 1 << 20;
  o.limits.max_image_bytes = 512 << 10;
  Start(o);
  const std::string id = NewSession(Embodiment::kPiper);
  auto big = t::ObserveFor(Embodiment::kPiper, id, 1);
  big.mutable_images(0)->set_data(std::string(2 << 20, 'x'));
  grpc::Status st = Observe(big);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  auto medium = t::ObserveFor(Embodiment::kPiper, id, 1);
  medium.mutable_images(0)->set_data(std::string(600 << 10, 'x'));  // under the message limit, over the image limit
  st = Observe(medium);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("images[0].data: 614400 bytes; at most 524288"));
  EXPECT_TRUE(Observe(t::ObserveFor(Embodiment::kPiper, id, 2)).ok());
}

TEST_F(ServiceTest, SessionLimitAndIdleExpiry) {
  ServerOptions o = t::LoopbackOptions();
  o.max_sessions = 2;
  o.session_idle_timeout = absl::Milliseconds(300);
  Start(o);
  const std::string a = NewSession(Embodiment::kPiper);
  NewSession(Embodiment::kPiper);
  grpc::ClientContext ctx;
  mivla::v1::StartSessionResponse r;
  EXPECT_EQ(s_.stub->StartSession(&ctx, t::StartRequest(Embodiment::kPiper), &r).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  absl::SleepFor(absl::Milliseconds(1500));  // both expire (sweeper runs every second)
  grpc::Status st = Observe(t::ObserveFor(Embodiment::kPiper, a, 1));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s_.server->sessions().size(), 0u);
  NewSession(Embodiment::kPiper);  // capacity is back
}

TEST_F(ServiceTest, ShutdownDrainsInFlightCallsAndRefusesNewOnes) {
  // Each Act spends 40 ms in the decoder, so the four looping clients nearly always have calls inside
  // the server when the drain begins.
  FakeRuntimeOptions fake = t::LoopbackFake();
  fake.decode_latency = absl::Milliseconds(40);
  Start(t::LoopbackOptions(fake));
  const std::string id = NewSession(Embodiment::kPiper);
  ASSERT_TRUE(Observe(t::ObserveFor(Embodiment::kPiper, id, 1)).ok());
  struct Call {
    absl::Time start;
    absl::Time end;
    grpc::StatusCode code;
  };
  absl::Mutex mu;
  std::vector<Call> calls;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 400; ++i) {
        mivla::v1::ActResponse a;
        const absl::Time start = absl::Now();
        grpc::Status st = Act(id, i + 1, &a);
        absl::MutexLock lock(&mu);
        calls.push_back({start, absl::Now(), st.error_code()});
        if (!st.ok()) return;
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_TRUE(s_.server->AwaitServing(absl::Seconds(30)).ok());
  const absl::Time shutdown_start = absl::Now();
  s_.server->Shutdown(absl::Seconds(5));
  EXPECT_FALSE(s_.server->serving());
  EXPECT_EQ(s_.server->AwaitServing(absl::Milliseconds(60)).code(), absl::StatusCode::kDeadlineExceeded);
  for (auto& c : clients) c.join();

  int ok = 0;
  int drained = 0;  // finished OK after the drain began: they were inside the server and were completed
  for (const Call& c : calls) {
    // A call the server had not yet taken when its listener closed is refused (UNAVAILABLE, or CANCELLED
    // by gRPC before any handler saw it); nothing ends in a server-side error.
    EXPECT_TRUE(c.code == grpc::StatusCode::OK || c.code == grpc::StatusCode::UNAVAILABLE ||
                c.code == grpc::StatusCode::CANCELLED)
        << c.code;
    if (c.code != grpc::StatusCode::OK) continue;
    ++ok;
    drained += c.end > shutdown_start;
  }
  EXPECT_GT(drained, 0);
  // Every call a handler took was answered: the server finished exactly as many Acts OK as the clients
  // received, and none of its Acts ended in another code than OK or UNAVAILABLE (refused while draining).
  const std::string metrics = s_.server->registry().Expose();
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat("mivla_requests_total{rpc=\"Act\",code=\"OK\"} ", ok, "\n")));
  for (const char* code : {"CANCELLED", "INTERNAL", "UNKNOWN", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"}) {
    EXPECT_THAT(metrics, Not(HasSubstr(absl::StrCat("mivla_requests_total{rpc=\"Act\",code=\"", code, "\"}"))));
  }

  // A new call after the drain is refused.
  mivla::v1::ActResponse late;
  EXPECT_EQ(Act(id, 999, &late).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(ServiceTest, ShutdownEndsWithinItsDrainAndAnswersWhatIsStillQueuedUnavailable) {
  // 20 Acts queued behind a 300 ms decoder that takes one at a time: 6 s of work. A 300 ms drain must
  // not wait for it all: what is still queued when the drain ends is answered UNAVAILABLE.
  FakeRuntimeOptions fake = t::LoopbackFake();
  fake.decode_latency = absl::Milliseconds(300);
  ServerOptions o = t::LoopbackOptions(fake);
  o.decode.max_batch_size = 1;
  o.decode.max_queue_delay_us = 0;
  Start(o);
  std::vector<std::string> ids;
  for (int k = 0; k < 5; ++k) {
    ids.push_back(NewSession(Embodiment::kPiper));
    ASSERT_TRUE(Observe(t::ObserveFor(Embodiment::kPiper, ids.back(), 1)).ok());
  }
  absl::Mutex mu;
  std::vector<grpc::StatusCode> codes;
  std::vector<std::thread> clients;
  for (const std::string& id : ids) {
    for (int c = 0; c < 4; ++c) {  // the per-session cap
      clients.emplace_back([&, id, c] {
        mivla::v1::ActResponse a;
        grpc::Status st = Act(id, c + 1, &a);
        absl::MutexLock lock(&mu);
        codes.push_back(st.error_code());
      });
    }
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (s_.server->engine().decode_depth() < 12 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_GE(s_.server->engine().decode_depth(), 12u);
  const absl::Time t0 = absl::Now();
  s_.server->Shutdown(absl::Milliseconds(300));
  const absl::Duration took = absl::Now() - t0;
  for (auto& c : clients) c.join();
  EXPECT_LT(took, absl::Seconds(2.5)) << "the queue held about 6 s of work";
  int unavailable = 0;
  for (grpc::StatusCode code : codes) {
    // CANCELLED: a call gRPC had not handed to a handler when the listener closed (as in the test above).
    EXPECT_TRUE(code == grpc::StatusCode::OK || code == grpc::StatusCode::UNAVAILABLE ||
                code == grpc::StatusCode::CANCELLED)
        << code;
    unavailable += code == grpc::StatusCode::UNAVAILABLE;
  }
  EXPECT_GT(unavailable, 0);
  EXPECT_THAT(s_.server->registry().Expose(),
              HasSubstr("mivla_requests_total{rpc=\"Act\",code=\"UNAVAILABLE\"}"));  // answered by the server
}

TEST(ServerOptionsTest, HeapKeepIsMinusOneOrMoreAndABadOneNamesTheFlag) {
  ServerOptions o = t::LoopbackOptions();
  ASSERT_TRUE(ValidateServerOptions(o).ok()) << ValidateServerOptions(o);
  EXPECT_EQ(o.heap_keep_mib, 64);
  o.heap_keep_mib = -1;  // no trimmer
  EXPECT_TRUE(ValidateServerOptions(o).ok());
  o.heap_keep_mib = -2;
  const absl::Status s = ValidateServerOptions(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("heap-keep-mib"), std::string::npos) << s;
}

TEST(ServerOptionsTest, ControlRequestCapIsAtLeast1KiBAndABadOneNamesTheFlag) {
  ServerOptions o = t::LoopbackOptions();
  EXPECT_EQ(o.max_control_request_bytes, 4 << 20);
  o.max_message_bytes = 1 << 20;  // a cap above the message limit changes nothing, and is allowed
  o.limits.max_image_bytes = 512 << 10;
  EXPECT_TRUE(ValidateServerOptions(o).ok()) << ValidateServerOptions(o);
  o.max_control_request_bytes = 1023;
  const absl::Status s = ValidateServerOptions(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("max-control-request-bytes"), std::string::npos) << s;
}

}  // namespace
}  // namespace mivla::server
