// Hostile and careless clients against an in-process server over loopback (issue 11): each case runs
// beside a well-behaved robot (Observe + Act in a loop on its own session) that must keep being served
// without a failed call and without being held up, while the bad client is refused at once.
#include <atomic>
#include <limits>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/inference/hostile_images.h"
#include "server/inference/test_requests.h"
#include "server/service/service_test_util.h"

namespace mivla::server {
namespace {

using action::Embodiment;
using ::testing::HasSubstr;
namespace t = ::mivla::server::testing;

// A robot on its own session: Observe then Act, again and again, until Stop.
class WellBehavedRobot {
 public:
  explicit WellBehavedRobot(mivla::v1::PolicyService::Stub* stub) : stub_(stub) {
    grpc::ClientContext ctx;
    mivla::v1::StartSessionResponse r;
    EXPECT_TRUE(stub_->StartSession(&ctx, t::StartRequest(Embodiment::kPiper), &r).ok());
    id_ = r.session_id();
    thread_ = std::thread([this] { Run(); });
  }
  ~WellBehavedRobot() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  int failures() const { return failures_.load(); }
  int calls() const { return calls_.load(); }
  double worst_ms() const {
    absl::MutexLock lock(&mu_);
    return worst_ms_;
  }
  std::string last_error() const {
    absl::MutexLock lock(&mu_);
    return last_error_;
  }

 private:
  void Run() {
    for (uint64_t i = 1; !stop_.load(); ++i) {
      const absl::Time t0 = absl::Now();
      grpc::ClientContext octx;
      octx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      mivla::v1::ObserveResponse o;
      grpc::Status s = stub_->Observe(&octx, t::ObserveFor(Embodiment::kPiper, id_, i), &o);
      if (s.ok()) {
        grpc::ClientContext actx;
        actx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        mivla::v1::ActRequest a;
        a.set_session_id(id_);
        mivla::v1::ActResponse ar;
        s = stub_->Act(&actx, a, &ar);
      }
      ++calls_;
      const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
      absl::MutexLock lock(&mu_);
      worst_ms_ = std::max(worst_ms_, ms);
      if (!s.ok()) {
        ++failures_;
        last_error_ = s.error_message();
      }
    }
  }
  mivla::v1::PolicyService::Stub* stub_;
  std::string id_;
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0}, calls_{0};
  mutable absl::Mutex mu_;
  double worst_ms_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class HardeningTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o = t::LoopbackOptions()) {
    o.refusal_log_sink = [this](const std::string& line) {
      absl::MutexLock lock(&log_mu_);
      log_.push_back(line);
    };
    auto s = t::StartLoopback(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    s_ = *std::move(s);
  }
  std::string NewSession(Embodiment e = Embodiment::kPiper) {
    grpc::ClientContext ctx;
    mivla::v1::StartSessionResponse resp;
    grpc::Status st = s_.stub->StartSession(&ctx, t::StartRequest(e), &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.session_id();
  }
  grpc::Status Observe(const mivla::v1::ObserveRequest& r, double* ms = nullptr) {
    grpc::ClientContext ctx;
    mivla::v1::ObserveResponse resp;
    const absl::Time t0 = absl::Now();
    grpc::Status s = s_.stub->Observe(&ctx, r, &resp);
    if (ms) *ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
    return s;
  }
  // Sends `bytes` as the raw request of `method` (e.g. "/mivla.v1.PolicyService/StartSession").
  grpc::Status RawCall(const std::string& method, const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::GenericStub stub(s_.channel);
    grpc::ClientContext ctx;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
      status = s;
      done.Notify();
    });
    done.WaitForNotification();
    return status;
  }
  std::vector<std::string> Log() {
    absl::MutexLock lock(&log_mu_);
    return log_;
  }
  t::LoopbackServer s_;
  absl::Mutex log_mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(log_mu_);
};

TEST_F(HardeningTest, DecompressionBombsAreRefusedInMillisecondsWhileARobotIsServed) {
  Start();
  const std::string id = NewSession();
  WellBehavedRobot robot(s_.stub.get());
  absl::SleepFor(absl::Milliseconds(500));
  // The cases: a ~600-byte JPEG claiming 30000 x 30000, a 2.7 MB PNG of 30000 x 30000 zeros;
  // four clients sending them at once.
  auto jpeg_bomb = t::ObserveFor(Embodiment::kPiper, id, 1);
  jpeg_bomb.mutable_images(0)->set_data(t::JpegClaiming(30000, 30000));
  auto png_bomb = t::ObserveFor(Embodiment::kPiper, id, 1);
  png_bomb.mutable_images(1)->set_encoding(mivla::v1::PNG);
  png_bomb.mutable_images(1)->set_data(t::ZeroPng(30000, 30000));
  std::vector<std::thread> attackers;
  std::atomic<int> refused{0};
  std::atomic<int> slow{0};
  for (int c = 0; c < 4; ++c) {
    attackers.emplace_back([&, c] {
      for (int k = 0; k < 10; ++k) {
        double ms = 0;
        grpc::Status st = Observe(c % 2 == 0 ? jpeg_bomb : png_bomb, &ms);
        if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
            st.error_message().find("30000x30000 exceeds") != std::string::npos) {
          ++refused;
        }
        if (ms > 1000) ++slow;
      }
    });
  }
  for (auto& a : attackers) a.join();
  robot.Stop();
  EXPECT_EQ(refused.load(), 40);
  EXPECT_EQ(slow.load(), 0) << "a bomb took over a second to refuse (the bug: 8-11 s each)";
  EXPECT_EQ(robot.failures(), 0) << robot.last_error();
  EXPECT_GT(robot.calls(), 0);
  EXPECT_LT(robot.worst_ms(), 5000) << "the well-behaved robot was held up (the bug: 41 s)";
  // Each refusal has a JSON log line naming the field.
  int bomb_lines = 0;
  for (const std::string& line : Log()) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j["rpc"] == "Observe" && j["code"] == "INVALID_ARGUMENT") {
      ++bomb_lines;
      EXPECT_THAT(j["field"].get<std::string>(), ::testing::AnyOf("images[0]", "images[1]"));
      EXPECT_EQ(j["session"], id);
    }
  }
  EXPECT_EQ(bomb_lines, 40);
}

TEST_F(HardeningTest, OutOfRangeNumbersAreInvalidArgumentNamingTheField) {
  Start();
  const std::string id = NewSession();
  auto r = t::ObserveFor(Embodiment::kPiper, id, 1);
  r.mutable_proprioception()->mutable_right()->set_joint_positions(3, 1e300);
  grpc::Status s = Observe(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("proprioception.right.joint_positions[3]: 1e+300 is outside"));
  r = t::ObserveFor(Embodiment::kPiper, id, 1);
  r.set_timestamp_us(std::numeric_limits<int64_t>::max() - 1000);
  s = Observe(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("timestamp_us"));

  grpc::ClientContext ctx;
  auto start = t::StartRequest(Embodiment::kPiper);
  start.set_control_rate_hz(1e-300);
  mivla::v1::StartSessionResponse started;
  s = s_.stub->StartSession(&ctx, start, &started);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("control_rate_hz: 1e-300 is not a rate in [0.5, 2000]"));

  // In range: the chunk's step times follow the observation time, and every value is finite.
  ASSERT_TRUE(Observe(t::ObserveFor(Embodiment::kPiper, id, 2)).ok());
  grpc::ClientContext actx;
  mivla::v1::ActRequest a;
  a.set_session_id(id);
  mivla::v1::ActResponse ar;
  ASSERT_TRUE(s_.stub->Act(&actx, a, &ar).ok());
  for (const auto& step : ar.chunk().steps()) {
    EXPECT_GE(step.timestamp_us(), 1000000);
    for (float v : step.unified()) EXPECT_TRUE(std::isfinite(v));
  }
}

TEST_F(HardeningTest, MalformedRequestsAreInvalidArgumentWithAMessage) {
  Start();
  // StartSessionRequest { string robot_id = 5; } with invalid UTF-8 (0xFF).
  grpc::Status s = RawCall("/mivla.v1.PolicyService/StartSession", std::string("\x2a\x02\xff\xfe", 4));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("mivla.v1.StartSessionRequest: robot_id: not valid UTF-8"));
  // ObserveRequest { Image images = 2 { string camera = 1 } } with invalid UTF-8 inside the image.
  s = RawCall("/mivla.v1.PolicyService/Observe", std::string("\x12\x04\x0a\x02\xc0\x80", 6));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("images.camera: not valid UTF-8"));
  // Truncated length-delimited field.
  s = RawCall("/mivla.v1.PolicyService/Act", std::string("\x0a\x10\x41", 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("session_id: length runs past the end"));
  // The stream ends INVALID_ARGUMENT too (not as a half-close).
  grpc::GenericStub stub(s_.channel);
  grpc::ClientContext sctx;
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&sctx, "/mivla.v1.PolicyService/StreamAct", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::Slice bad(std::string("\x0a\x03\x0a\x01\xff", 5));  // observation.session_id = 0xFF
  grpc::ByteBuffer bb(&bad, 1);
  call->WriteLast(bb, grpc::WriteOptions(), reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::Status st;
  call->Finish(&st, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("observation.session_id: not valid UTF-8"));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(HardeningTest, StringsAndTaskLabelsAreBounded) {
  ServerOptions o = t::LoopbackOptions();
  o.max_task_labels = 8;
  Start(o);
  grpc::ClientContext ctx;
  auto start = t::StartRequest(Embodiment::kPiper);
  start.set_robot_id(std::string(15 << 20, 'r'));
  mivla::v1::StartSessionResponse started;
  grpc::Status s = s_.stub->StartSession(&ctx, start, &started);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Refused by its size before it is parsed: requests without images are at most 4 MiB.
  EXPECT_THAT(s.error_message(), HasSubstr("StartSession requests may have at most 4194304"));
  EXPECT_THAT(s.error_message(), HasSubstr("[--max-control-request-bytes]"));
  EXPECT_EQ(s_.server->sessions().size(), 0u);
  // Under that size, the field's own limit names it.
  grpc::ClientContext ctx2;
  start.set_robot_id(std::string(200 << 10, 'r'));
  s = s_.stub->StartSession(&ctx2, start, &started);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("robot_id: 204800 bytes; at most 128"));
  EXPECT_EQ(s_.server->sessions().size(), 0u);
  // An Act over the size is refused the same way; Observe (images) is not held to it.
  grpc::ClientContext ctx3;
  mivla::v1::ActRequest big_act;
  big_act.set_session_id(std::string(5 << 20, 's'));
  mivla::v1::ActResponse act;
  s = s_.stub->Act(&ctx3, big_act, &act);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("Act requests may have at most"));

  // A 1 MB session id is not echoed back.
  auto r = t::ObserveFor(Embodiment::kPiper, std::string(1 << 20, 'x'), 1);
  s = Observe(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(s.error_message().size(), 200u);
  EXPECT_THAT(s.error_message(), HasSubstr("session_id: 1048576 bytes"));
  for (const std::string& line : Log()) EXPECT_LT(line.size(), 1500u);

  // 2,000 distinct task names make at most 8 + "other" series.
  const std::string id = NewSession();
  for (int i = 0; i < 2000; ++i) {
    grpc::ClientContext rctx;
    mivla::v1::ReportEpisodeRequest rep;
    rep.set_session_id(id);
    rep.set_task(absl::StrCat("task_", i));
    rep.set_completeness(0.5);
    mivla::v1::ReportEpisodeResponse resp;
    ASSERT_TRUE(s_.stub->ReportEpisode(&rctx, rep, &resp).ok());
  }
  const std::string metrics = s_.server->registry().Expose();
  int series = 0;
  for (size_t at = 0; (at = metrics.find("\nmivla_episodes_total{", at)) != std::string::npos; ++at) ++series;
  EXPECT_EQ(series, 9);
  EXPECT_THAT(metrics, HasSubstr("mivla_episodes_total{embodiment=\"PIPER\",task=\"other\"} 1992"));
}

TEST_F(HardeningTest, OneSessionCannotStarveAnother) {
  Start();
  const std::string greedy = NewSession();
  WellBehavedRobot robot(s_.stub.get());
  const auto req = t::ObserveFor(Embodiment::kPiper, greedy, 1);
  // 600 Observes in flight at once on one session.
  constexpr int kCalls = 600;
  struct Call {
    grpc::ClientContext ctx;
    mivla::v1::ObserveResponse resp;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Call>> calls;
  std::atomic<int> remaining{kCalls};
  absl::Notification all_done;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::make_unique<Call>());
    Call* c = calls.back().get();
    s_.stub->async()->Observe(&c->ctx, &req, &c->resp, [c, &remaining, &all_done](grpc::Status st) {
      c->status = st;
      if (--remaining == 0) all_done.Notify();
    });
  }
  ASSERT_TRUE(all_done.WaitForNotificationWithTimeout(absl::Seconds(120)));
  robot.Stop();
  int exhausted = 0, ok = 0;
  for (const auto& c : calls) {
    if (c->status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
      EXPECT_THAT(c->status.error_message(), HasSubstr("--max-in-flight-per-session"));
      auto pushback = c->ctx.GetServerTrailingMetadata().find("grpc-retry-pushback-ms");
      EXPECT_NE(pushback, c->ctx.GetServerTrailingMetadata().end());
    } else {
      ok += c->status.ok() ? 1 : 0;
    }
  }
  EXPECT_GT(exhausted, kCalls / 2);
  EXPECT_GT(ok, 0);
  EXPECT_EQ(robot.failures(), 0) << robot.last_error();
  EXPECT_GT(robot.calls(), 0);
}

TEST_F(HardeningTest, ClientsAreCappedAndFailedCallsDoNotKeepSessionsAlive) {
  const std::string dir = ::testing::TempDir();
  const std::string tokens = dir + "/hardening_tokens.txt";
  {
    std::FILE* f = std::fopen(tokens.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("greedy-token\npolite-token\n", f);
    std::fclose(f);
  }
  ServerOptions o = t::LoopbackOptions();
  o.token_file = tokens;
  o.max_sessions_per_client = 3;
  o.session_idle_timeout = absl::Seconds(1);
  Start(o);
  auto start_as = [&](const std::string& token, std::string* id) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    mivla::v1::StartSessionResponse resp;
    grpc::Status s = s_.stub->StartSession(&ctx, t::StartRequest(Embodiment::kPiper), &resp);
    if (id) *id = resp.session_id();
    return s;
  };
  std::string kept;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(start_as("greedy-token", &kept).ok());
  grpc::Status s = start_as("greedy-token", nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("client token#1 holds 3 sessions"));
  EXPECT_TRUE(start_as("polite-token", nullptr).ok());
  // Cheap failing calls on `kept` (a bad observation) for 2 s do not keep it alive past its 1 s idle timeout.
  auto bad = t::ObserveFor(Embodiment::kPiper, kept, 1);
  bad.mutable_proprioception()->clear_right();
  grpc::StatusCode last = grpc::StatusCode::OK;
  for (int i = 0; i < 10; ++i) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer greedy-token");
    mivla::v1::ObserveResponse resp;
    last = s_.stub->Observe(&ctx, bad, &resp).error_code();
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(last, grpc::StatusCode::NOT_FOUND);
  // The refusal log names the client by token index, never by the token itself.
  bool saw_client = false;
  for (const std::string& line : Log()) {
    EXPECT_EQ(line.find("greedy-token"), std::string::npos);
    saw_client |= line.find("\"client\":\"token#1\"") != std::string::npos;
  }
  EXPECT_TRUE(saw_client);
}

TEST_F(HardeningTest, WithoutTokensClientsCanBeCappedByAddress) {
  ServerOptions o = t::LoopbackOptions();
  o.max_sessions_per_client = 3;
  o.max_sessions = 16;
  o.clients_by_address = true;
  Start(o);
  auto start = [&] {
    grpc::ClientContext ctx;
    mivla::v1::StartSessionResponse resp;
    return s_.stub->StartSession(&ctx, t::StartRequest(Embodiment::kPiper), &resp);
  };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(start().ok()) << i;
  grpc::Status s = start();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("client addr:"));
  EXPECT_THAT(s.error_message(), HasSubstr("holds 3 sessions"));
  bool logged = false;
  for (const std::string& line : Log()) logged |= line.find("\"client\":\"addr:") != std::string::npos;
  EXPECT_TRUE(logged) << "the refusal log names the client by address";
}

TEST_F(HardeningTest, WithoutTokensOrAddressesClientsAreNotCapped) {
  ServerOptions o = t::LoopbackOptions();
  o.max_sessions_per_client = 3;
  Start(o);
  for (int i = 0; i < 5; ++i) {
    grpc::ClientContext ctx;
    mivla::v1::StartSessionResponse resp;
    EXPECT_TRUE(s_.stub->StartSession(&ctx, t::StartRequest(Embodiment::kPiper), &resp).ok()) << i;
  }
}

TEST_F(HardeningTest, IdleStreamsAreEnded) {
  ServerOptions o = t::LoopbackOptions();
  o.stream_idle_timeout = absl::Milliseconds(600);
  Start(o);
  const std::string id = NewSession();
  grpc::ClientContext ctx;
  auto stream = s_.stub->StreamAct(&ctx);
  mivla::v1::StreamActRequest req;
  *req.mutable_observation() = t::ObserveFor(Embodiment::kPiper, id, 1);
  ASSERT_TRUE(stream->Write(req));
  mivla::v1::StreamActResponse resp;
  ASSERT_TRUE(stream->Read(&resp));  // served, then silence
  const absl::Time t0 = absl::Now();
  EXPECT_FALSE(stream->Read(&resp));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(s.error_message(), HasSubstr("--stream-idle-timeout-s"));
  EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
}

TEST_F(HardeningTest, StreamsWaitingOnTheServerAreNotIdle) {
  // The idle clock stops while a request is in the engine: a decode slower than the idle timeout is
  // answered, and the stream goes on. (The watch used to end such a stream while its request was
  // queued, and the engine's answer then reached a call gRPC had already freed.)
  FakeRuntimeOptions fake = t::LoopbackFake();
  fake.decode_latency = absl::Milliseconds(1600);
  ServerOptions o = t::LoopbackOptions(fake);
  o.stream_idle_timeout = absl::Milliseconds(800);  // the client's own pauses stay well under it
  Start(o);
  const std::string id = NewSession();
  grpc::ClientContext ctx;
  auto stream = s_.stub->StreamAct(&ctx);
  for (int i = 1; i <= 2; ++i) {
    mivla::v1::StreamActRequest req;
    *req.mutable_observation() = t::ObserveFor(Embodiment::kPiper, id, i);
    req.set_want_action(true);
    ASSERT_TRUE(stream->Write(req)) << i;
    mivla::v1::StreamActResponse resp;
    ASSERT_TRUE(stream->Read(&resp)) << "request " << i << ": " << stream->Finish().error_message();
    EXPECT_GT(resp.action().chunk().steps_size(), 0) << i;
  }
  ASSERT_TRUE(stream->WritesDone());
  const grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
}

}  // namespace
}  // namespace mivla::server
