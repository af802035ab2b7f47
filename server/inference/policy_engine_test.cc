// PolicyEngine on the fake runtime (server/runtime_api/fake_policy_runtime.h): batching across
// sessions and embodiments, per-request errors, overload, re-encoding after a hot reload, runtime
// failures. The LibTorch runtime's own behaviour is tested in server/runtime/.
#include "server/inference/policy_engine.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/inference/observation_input.h"
#include "server/inference/test_requests.h"
#include "server/runtime_api/fake_policy_runtime.h"
#include "server/session/session_manager.h"

namespace mivla::server {
namespace {

using action::Embodiment;
using ::testing::HasSubstr;

FakeRuntimeOptions Fake(absl::Duration encode = absl::Milliseconds(1), absl::Duration decode = absl::Milliseconds(2)) {
  FakeRuntimeOptions f;
  f.encode_latency = encode;
  f.decode_latency = decode;
  return f;
}

class PolicyEngineTest : public ::testing::Test {
 protected:
  void Init(PolicyEngine::Options eo, const std::string& model_dir = "", FakeRuntimeOptions fake = Fake()) {
    ModelManager::Options mo;
    if (model_dir.empty()) {
      mo.random_init = true;
    } else {
      mo.model_dir = model_dir;
      mo.poll_interval = absl::ZeroDuration();
      mo.settle_time = absl::ZeroDuration();
    }
    mo.loader = std::make_shared<FakeRuntimeLoader>(fake);
    mo.warm_batch_size = 4;
    models_ = *ModelManager::Create(mo);
    ASSERT_TRUE(models_->Start().ok());
    sessions_ = *SessionManager::Create({});
    auto e = PolicyEngine::Create(eo, models_.get());
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = *std::move(e);
  }
  static PolicyEngine::Options Defaults() {
    PolicyEngine::Options o;
    o.encode.max_batch_size = 8;
    o.decode.max_batch_size = 8;
    o.encode.max_queue_delay = absl::Milliseconds(5);
    o.decode.max_queue_delay = absl::Milliseconds(5);
    return o;
  }
  std::shared_ptr<Session> NewSession(Embodiment e) { return *sessions_->Start(testing::SpecFor(e)); }

  absl::Status Observe(const std::shared_ptr<Session>& s, const mivla::v1::ObserveRequest& r,
                       mivla::v1::ObserveResponse* resp, absl::Time deadline = absl::InfiniteFuture()) {
    absl::Notification n;
    absl::Status out;
    engine_->Observe(s, &r, resp, deadline, [&](absl::Status st) { out = st; n.Notify(); });
    n.WaitForNotification();
    return out;
  }
  absl::Status Act(const std::shared_ptr<Session>& s, uint64_t seed, mivla::v1::ActResponse* resp,
                   uint64_t obs_id = 0) {
    mivla::v1::ActRequest r;
    r.set_seed(seed);
    r.set_observation_id(obs_id);
    absl::Notification n;
    absl::Status out;
    engine_->Act(s, &r, resp, absl::InfiniteFuture(), [&](absl::Status st) { out = st; n.Notify(); });
    n.WaitForNotification();
    return out;
  }

  std::unique_ptr<ModelManager> models_;
  std::unique_ptr<SessionManager> sessions_;
  std::unique_ptr<PolicyEngine> engine_;
};

TEST_F(PolicyEngineTest, MixedEmbodimentsBatchTogetherAndChunksAreWellFormed) {
  Init(Defaults());
  std::vector<Embodiment> es(action::kAllEmbodiments.begin(), action::kAllEmbodiments.end());
  std::vector<std::shared_ptr<Session>> ss;
  std::vector<mivla::v1::ObserveRequest> reqs;
  for (size_t i = 0; i < es.size(); ++i) {
    ss.push_back(NewSession(es[i]));
    reqs.push_back(testing::ObserveFor(es[i], ss[i]->id(), i + 1));
  }
  std::vector<mivla::v1::ObserveResponse> oresp(es.size());
  std::vector<absl::Status> st(es.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < es.size(); ++i) {
    threads.emplace_back([&, i] { st[i] = Observe(ss[i], reqs[i], &oresp[i]); });
  }
  for (auto& t : threads) t.join();
  uint32_t max_batch = 0;
  for (size_t i = 0; i < es.size(); ++i) {
    ASSERT_TRUE(st[i].ok()) << st[i];
    EXPECT_EQ(oresp[i].observation_id(), 1u);
    EXPECT_EQ(oresp[i].model_version(), "random-init-tiny-seed1");
    max_batch = std::max(max_batch, oresp[i].timing().encode_batch_size());
  }
  EXPECT_GT(max_batch, 1u) << "concurrent observations should share an encode batch";

  threads.clear();
  std::vector<mivla::v1::ActResponse> aresp(es.size());
  for (size_t i = 0; i < es.size(); ++i) threads.emplace_back([&, i] { st[i] = Act(ss[i], 7, &aresp[i]); });
  for (auto& t : threads) t.join();
  const int h = models_->current()->info().action_horizon;
  for (size_t i = 0; i < es.size(); ++i) {
    ASSERT_TRUE(st[i].ok()) << st[i];
    const auto& c = aresp[i].chunk();
    EXPECT_EQ(c.embodiment(), EmbodimentToProto(es[i]));
    ASSERT_EQ(c.steps_size(), h);
    EXPECT_EQ(c.steps(1).timestamp_us() - c.steps(0).timestamp_us(), 100000);
    EXPECT_EQ(c.steps(0).timestamp_us(), reqs[i].timestamp_us());
    EXPECT_EQ(c.steps(0).has_right(), es[i] != Embodiment::kHuman);
    EXPECT_EQ(c.steps(0).has_left(), action::IsRobot(es[i]) && action::NumArms(es[i]) == 2);
    for (float x : c.steps(h - 1).unified()) EXPECT_TRUE(std::isfinite(x));
    EXPECT_GT(aresp[i].timing().decode_us(), 0);
    EXPECT_EQ(aresp[i].timing().encode_us(), 0);  // condition was cached by Observe
  }
}

TEST_F(PolicyEngineTest, SeedMakesChunksDeterministicAndIndependentOfBatchMates) {
  Init(Defaults());
  auto a = NewSession(Embodiment::kPiper);
  auto b = NewSession(Embodiment::kLocoman);
  mivla::v1::ObserveResponse o;
  ASSERT_TRUE(Observe(a, testing::ObserveFor(Embodiment::kPiper, a->id(), 1), &o).ok());
  ASSERT_TRUE(Observe(b, testing::ObserveFor(Embodiment::kLocoman, b->id(), 2), &o).ok());
  mivla::v1::ActResponse alone, again, batched, other;
  ASSERT_TRUE(Act(a, 99, &alone).ok());
  ASSERT_TRUE(Act(a, 99, &again).ok());
  std::thread t([&] { ASSERT_TRUE(Act(b, 5, &other).ok()); });
  ASSERT_TRUE(Act(a, 99, &batched).ok());
  t.join();
  for (int s = 0; s < alone.chunk().steps_size(); ++s) {
    for (int d = 0; d < action::kActionDim; ++d) {
      EXPECT_EQ(alone.chunk().steps(s).unified(d), again.chunk().steps(s).unified(d));
      EXPECT_NEAR(alone.chunk().steps(s).unified(d), batched.chunk().steps(s).unified(d), 1e-4);
    }
  }
  mivla::v1::ActResponse different;
  ASSERT_TRUE(Act(a, 100, &different).ok());
  EXPECT_NE(alone.chunk().steps(0).right().joint_positions(0), different.chunk().steps(0).right().joint_positions(0));
}

TEST_F(PolicyEngineTest, ErrorsAreIsolatedToTheirRequest) {
  Init(Defaults());
  auto s = NewSession(Embodiment::kArx5);
  mivla::v1::ActResponse ar;
  EXPECT_EQ(Act(s, 1, &ar).code(), absl::StatusCode::kFailedPrecondition);  // nothing observed yet
  auto bad = testing::ObserveFor(Embodiment::kArx5, s->id(), 1);
  bad.mutable_images(0)->set_data("garbage");
  mivla::v1::ObserveResponse o;
  absl::Status st = Observe(s, bad, &o);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("images[0].data"));
  ASSERT_TRUE(Observe(s, testing::ObserveFor(Embodiment::kArx5, s->id(), 1), &o).ok());
  EXPECT_EQ(Act(s, 1, &ar, /*obs_id=*/999).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Act(s, 1, &ar, o.observation_id()).ok());
  // An expired deadline is dropped before compute.
  EXPECT_EQ(Observe(s, testing::ObserveFor(Embodiment::kArx5, s->id(), 2), &o, absl::Now() - absl::Seconds(1)).code(),
            absl::StatusCode::kDeadlineExceeded);
}

// A JPEG whose frame header reads (so validation passes) but whose first Huffman table is bogus (counts
// summing past 256), so libjpeg refuses it on the image decode pool.
std::string WithBogusHuffmanTable(std::string jpeg) {
  const size_t dht = jpeg.find("\xFF\xC4");
  if (dht == std::string::npos || dht + 5 + 16 > jpeg.size()) return "";
  for (size_t i = dht + 5; i < dht + 5 + 16; ++i) jpeg[i] = '\xFF';  // after marker, length and class/id
  return jpeg;
}

TEST_F(PolicyEngineTest, ViewsDecodeOnThePoolAndTheFirstBadOneInCameraOrderIsNamed) {
  PolicyEngine::Options eo = Defaults();
  eo.image_decode_threads = 2;
  Init(eo);
  auto s = NewSession(Embodiment::kPiper);
  mivla::v1::ObserveResponse o;
  auto req = testing::ObserveFor(Embodiment::kPiper, s->id(), 1);
  ASSERT_EQ(req.images_size(), 2);
  const std::string bad = WithBogusHuffmanTable(req.images(1).data());
  ASSERT_FALSE(bad.empty());
  // The second view alone is bad: the Observe fails naming it, once.
  auto second_bad = req;
  second_bad.mutable_images(1)->set_data(bad);
  absl::Status st = Observe(s, second_bad, &o);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(st.message(), HasSubstr("images[1].data: not a decodable JPEG"));  // from the pool, not validation
  // Both bad: the first camera's error, whichever thread finished first.
  auto both_bad = second_bad;
  both_bad.mutable_images(0)->set_data(WithBogusHuffmanTable(req.images(0).data()));
  for (int i = 0; i < 5; ++i) {
    st = Observe(s, both_bad, &o);
    EXPECT_THAT(st.message(), HasSubstr("images[0].data: not a decodable JPEG")) << st;
  }
  // The session goes on: a good observation encodes and acts.
  ASSERT_TRUE(Observe(s, req, &o).ok());
  EXPECT_GT(o.timing().encode_us(), 0);
  mivla::v1::ActResponse ar;
  EXPECT_TRUE(Act(s, 1, &ar, o.observation_id()).ok());
}

TEST_F(PolicyEngineTest, AnObservationKeepsItsOwnInstructionAndARefusedOneChangesNothing) {
  Init(Defaults());
  auto s = NewSession(Embodiment::kPiper);
  ASSERT_EQ(s->instruction(), "press the bell");
  mivla::v1::ObserveResponse o;
  // Refused on the pool (an undecodable view): the session keeps its instruction.
  auto bad = testing::ObserveFor(Embodiment::kPiper, s->id(), 1);
  bad.mutable_images(1)->set_data(WithBogusHuffmanTable(bad.images(1).data()));
  bad.set_instruction("drop the block");
  ASSERT_EQ(Observe(s, bad, &o).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s->instruction(), "press the bell");
  // Accepted: encoded with its own instruction, which the session then keeps for the next ones.
  auto good = testing::ObserveFor(Embodiment::kPiper, s->id(), 2);
  good.set_instruction("lift the pot");
  ASSERT_TRUE(Observe(s, good, &o).ok());
  EXPECT_EQ((*s->Observation(o.observation_id()))->inputs->instruction, "lift the pot");
  EXPECT_EQ(s->instruction(), "lift the pot");
  ASSERT_TRUE(Observe(s, testing::ObserveFor(Embodiment::kPiper, s->id(), 3), &o).ok());
  EXPECT_EQ((*s->Observation(o.observation_id()))->inputs->instruction, "lift the pot");
}

TEST_F(PolicyEngineTest, FullQueueAnswersResourceExhaustedAndRecovers) {
  PolicyEngine::Options eo = Defaults();
  eo.encode.max_queue_depth = 2;
  eo.encode.max_batch_size = 1;
  eo.encode.max_queue_delay = absl::ZeroDuration();
  Init(eo, "", Fake(absl::Milliseconds(50)));
  auto s = NewSession(Embodiment::kAlohaAgilex);
  const int burst = 24;
  std::vector<mivla::v1::ObserveRequest> reqs;
  for (int i = 0; i < burst; ++i) reqs.push_back(testing::ObserveFor(Embodiment::kAlohaAgilex, s->id(), i));
  std::vector<mivla::v1::ObserveResponse> resp(burst);
  std::vector<absl::Status> st(burst);
  absl::BlockingCounter pending(burst);
  for (int i = 0; i < burst; ++i) {
    engine_->Observe(s, &reqs[i], &resp[i], absl::InfiniteFuture(), [&, i](absl::Status x) {
      st[i] = x;
      pending.DecrementCount();
    });
  }
  pending.Wait();
  int exhausted = 0, ok = 0;
  for (const auto& x : st) {
    if (x.code() == absl::StatusCode::kResourceExhausted) {
      ++exhausted;
      EXPECT_THAT(x.message(), HasSubstr("retry after"));
    }
    ok += x.ok();
  }
  EXPECT_GT(exhausted, 0);
  EXPECT_GT(ok, 0);
  mivla::v1::ObserveResponse o;
  EXPECT_TRUE(Observe(s, testing::ObserveFor(Embodiment::kAlohaAgilex, s->id(), 100), &o).ok());
}

void WriteFake(const std::filesystem::path& path, const std::string& json, int age_s) {
  std::ofstream(path.string(), std::ios::binary) << json;
  std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now() - std::chrono::seconds(age_s));
}

TEST_F(PolicyEngineTest, ActAfterHotReloadReencodesWithTheNewVersion) {
  auto dir = std::filesystem::temp_directory_path() / ("engine_reload_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  WriteFake(dir / "a.mivla", FakeCheckpoint("v1"), 10);
  Init(Defaults(), dir.string());
  auto s = NewSession(Embodiment::kLocoman);
  mivla::v1::ObserveResponse o;
  ASSERT_TRUE(Observe(s, testing::ObserveFor(Embodiment::kLocoman, s->id(), 1), &o).ok());
  EXPECT_EQ(o.model_version(), "v1");
  mivla::v1::ActResponse before;
  ASSERT_TRUE(Act(s, 3, &before).ok());
  WriteFake(dir / "b.mivla", FakeCheckpoint("v2", R"("offset": 1.0, "encode_latency_ms": 2)"), 5);
  ASSERT_TRUE(models_->PollOnce());
  mivla::v1::ActResponse a;
  ASSERT_TRUE(Act(s, 3, &a).ok());
  EXPECT_EQ(a.model_version(), "v2");
  EXPECT_GT(a.timing().encode_us(), 0);  // the cached v1 condition was re-encoded
  EXPECT_EQ((*s->Observation(0))->model_version, "v2");
  // v2 answers differently (its offset), from the same observation and seed.
  EXPECT_NEAR(a.chunk().steps(0).right().joint_positions(0) - before.chunk().steps(0).right().joint_positions(0), 1.0,
              1e-4);
  std::filesystem::remove_all(dir);
}

TEST_F(PolicyEngineTest, ObservationsTheNewVersionCannotTakeAreRefusedAlone) {
  auto dir = std::filesystem::temp_directory_path() / ("engine_shape_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  WriteFake(dir / "a.mivla", FakeCheckpoint("v1"), 10);
  Init(Defaults(), dir.string());
  auto s = NewSession(Embodiment::kPiper);
  mivla::v1::ObserveResponse o;
  ASSERT_TRUE(Observe(s, testing::ObserveFor(Embodiment::kPiper, s->id(), 1), &o).ok());
  WriteFake(dir / "b.mivla", FakeCheckpoint("v2", R"("image_size": 112)"), 5);
  ASSERT_TRUE(models_->PollOnce());
  mivla::v1::ActResponse a;
  absl::Status st = Act(s, 1, &a);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("send a new observation"));
  ASSERT_TRUE(Observe(s, testing::ObserveFor(Embodiment::kPiper, s->id(), 2), &o).ok());
  EXPECT_EQ(o.model_version(), "v2");
  EXPECT_TRUE(Act(s, 1, &a).ok());
  std::filesystem::remove_all(dir);
}

TEST_F(PolicyEngineTest, NonFiniteChunksAreInternalAndReported) {
  PolicyEngine::Options eo = Defaults();
  std::atomic<int> reported{0};
  eo.on_non_finite_output = [&](const Session&, const std::string& version) {
    EXPECT_EQ(version, "random-init-tiny-seed1");
    ++reported;
  };
  FakeRuntimeOptions f = Fake();
  f.fail = "non_finite";
  Init(eo, "", f);
  auto s = NewSession(Embodiment::kArx5);
  mivla::v1::ObserveResponse o;
  ASSERT_TRUE(Observe(s, testing::ObserveFor(Embodiment::kArx5, s->id(), 1), &o).ok());
  mivla::v1::ActResponse a;
  absl::Status st = Act(s, 1, &a);
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(st.message(), HasSubstr("non-finite action for session " + s->id()));
  EXPECT_EQ(a.chunk().steps_size(), 0);
  EXPECT_EQ(reported.load(), 1);
}

TEST_F(PolicyEngineTest, RuntimeFailuresReachEveryCallerAndTheEngineGoesOn) {
  FakeRuntimeOptions f = Fake();
  f.fail = "decode";
  Init(Defaults(), "", f);
  auto s = NewSession(Embodiment::kHuman);
  mivla::v1::ObserveResponse o;
  ASSERT_TRUE(Observe(s, testing::ObserveFor(Embodiment::kHuman, s->id(), 1), &o).ok());
  for (int i = 0; i < 2; ++i) {
    mivla::v1::ActResponse a;
    absl::Status st = Act(s, 1, &a);
    EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
    EXPECT_THAT(st.message(), HasSubstr("decode fails"));
  }
}

TEST_F(PolicyEngineTest, ActRemembersWhenItsChunkRunsOutAndChecksDeadlineUs) {
  Init(Defaults());
  auto s = NewSession(Embodiment::kPiper);
  EXPECT_FALSE(s->last_chunk().has_value());
  mivla::v1::ObserveResponse o;
  const mivla::v1::ObserveRequest req = testing::ObserveFor(Embodiment::kPiper, s->id(), 3);
  ASSERT_TRUE(Observe(s, req, &o).ok());
  mivla::v1::ActResponse a;
  ASSERT_TRUE(Act(s, 1, &a).ok());
  const auto& steps = a.chunk().steps();
  ASSERT_GT(steps.size(), 0);
  ASSERT_TRUE(s->last_chunk().has_value());
  EXPECT_EQ(s->last_chunk()->end_us, steps[steps.size() - 1].timestamp_us() + 100000) << "last step + one period";
  EXPECT_EQ(s->last_chunk()->observation_time_us, req.timestamp_us());
  EXPECT_EQ(s->last_chunk()->observation_id, o.observation_id());

  mivla::v1::ActRequest bad;
  bad.set_deadline_us(-5);
  absl::Notification n;
  absl::Status st;
  engine_->Act(s, &bad, &a, absl::InfiniteFuture(), [&](absl::Status x) { st = x; n.Notify(); });
  n.WaitForNotification();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("deadline_us"));
}

// EDF in the engine: while one Act holds the decode stage (1 s on the fake), three more wait; the one
// whose robot runs out 150 ms after its observation is answered DEADLINE_EXCEEDED without being computed,
// and the other two are served earliest deadline first, not in arrival order.
TEST_F(PolicyEngineTest, EdfServesEarliestRunOutFirstAndDropsActsThatMissedIt) {
  PolicyEngine::Options eo = Defaults();
  eo.decode.policy = BatchPolicy::kEdf;
  eo.decode.max_batch_size = 1;
  Init(eo, "", Fake(absl::Milliseconds(1), absl::Seconds(1)));
  std::vector<std::shared_ptr<Session>> ss;
  std::vector<mivla::v1::ObserveRequest> obs;
  for (int i = 0; i < 4; ++i) {
    ss.push_back(NewSession(Embodiment::kArx5));
    obs.push_back(testing::ObserveFor(Embodiment::kArx5, ss[i]->id(), 10 + i));
    mivla::v1::ObserveResponse o;
    ASSERT_TRUE(Observe(ss[i], obs[i], &o).ok());
  }
  // Robot run-outs after each observation: A none, B +150 ms, C +20 s, D +10 s.
  const int64_t after_us[] = {0, 150000, 20000000, 10000000};
  std::vector<mivla::v1::ActRequest> reqs(4);
  std::vector<mivla::v1::ActResponse> resp(4);
  std::vector<absl::Status> st(4);
  absl::Mutex mu;
  std::vector<int> finished;
  absl::BlockingCounter pending(4);
  auto act = [&](int i) {
    reqs[i].set_seed(1);
    if (after_us[i] > 0) reqs[i].set_deadline_us(obs[i].timestamp_us() + after_us[i]);
    engine_->Act(ss[i], &reqs[i], &resp[i], absl::InfiniteFuture(), [&, i](absl::Status x) {
      st[i] = x;
      {
        absl::MutexLock lock(&mu);
        finished.push_back(i);
      }
      pending.DecrementCount();
    });
  };
  // B's Observe is refreshed right before its Act so that its 150 ms start when it arrives.
  act(0);
  while (engine_->decode_depth() != 0) std::this_thread::yield();  // A is being decoded
  mivla::v1::ObserveResponse o;
  ASSERT_TRUE(Observe(ss[1], obs[1], &o).ok());
  act(1);
  act(2);
  act(3);
  pending.Wait();
  EXPECT_TRUE(st[0].ok()) << st[0];
  EXPECT_EQ(st[1].code(), absl::StatusCode::kDeadlineExceeded) << st[1];
  EXPECT_THAT(st[1].message(), HasSubstr("ran out of actions"));
  EXPECT_TRUE(st[2].ok()) << st[2];
  EXPECT_TRUE(st[3].ok()) << st[3];
  absl::MutexLock lock(&mu);
  ASSERT_EQ(finished.size(), 4u);
  EXPECT_EQ(finished[3], 2) << "C (run-out +20 s) after D (+10 s)";
  EXPECT_EQ(finished[2], 3);
}

// Late Acts (mivla_late_acts_total): the server made the robot run out of actions. Decodes take 800 ms
// on the fake. C asks already out of actions (its deadline_us has passed): answered after its run-out,
// but not late. L asks with 400 ms to go on an idle stage: answered (or, on a slow machine, dropped)
// after its run-out: late. Behind another Act holding the stage, L asks with 400 ms to go and is
// dropped: late; C asks without deadline_us and its gRPC deadline passes in the queue: dropped, not
// late. With 20 s to go L is answered in time.
TEST_F(PolicyEngineTest, ActsAreLateOnlyWhenTheRobotAskedInTimeAndRanOutBeforeTheAnswer) {
  PolicyEngine::Options eo = Defaults();
  eo.decode.max_batch_size = 1;
  std::atomic<int> late{0};
  eo.on_late_act = [&late] { ++late; };
  Init(eo, "", Fake(absl::Milliseconds(1), absl::Milliseconds(800)));
  std::shared_ptr<Session> busy = NewSession(Embodiment::kPiper);
  std::shared_ptr<Session> l = NewSession(Embodiment::kArx5);
  std::shared_ptr<Session> c = NewSession(Embodiment::kArx5);
  const mivla::v1::ObserveRequest obs_l = testing::ObserveFor(Embodiment::kArx5, l->id(), 20);
  const mivla::v1::ObserveRequest obs_c = testing::ObserveFor(Embodiment::kArx5, c->id(), 21);
  mivla::v1::ObserveResponse o;
  ASSERT_TRUE(Observe(busy, testing::ObserveFor(Embodiment::kPiper, busy->id(), 22), &o).ok());
  ASSERT_TRUE(Observe(c, obs_c, &o).ok());

  std::vector<mivla::v1::ActRequest> reqs(6);
  std::vector<mivla::v1::ActResponse> resps(6);
  std::vector<absl::Status> sts(6);
  auto act = [&](int i, const std::shared_ptr<Session>& s, int64_t deadline_us, absl::BlockingCounter* pending,
                 absl::Time rpc_deadline = absl::InfiniteFuture()) {
    reqs[i].set_seed(1);
    if (deadline_us > 0) reqs[i].set_deadline_us(deadline_us);
    engine_->Act(s, &reqs[i], &resps[i], rpc_deadline, [&, i, pending](absl::Status x) {
      sts[i] = x;
      pending->DecrementCount();
    });
  };
  absl::BlockingCounter first(1);
  act(0, c, obs_c.timestamp_us() - 1000, &first);
  first.Wait();
  ASSERT_TRUE(sts[0].ok()) << sts[0] << ": a robot already out of actions is served, never dropped for it";
  EXPECT_EQ(late.load(), 0) << "out of actions when it asked: not late";

  ASSERT_TRUE(Observe(l, obs_l, &o).ok());  // its 400 ms start now
  absl::BlockingCounter second(1);
  act(1, l, obs_l.timestamp_us() + 400000, &second);
  second.Wait();
  EXPECT_TRUE(sts[1].ok() || sts[1].code() == absl::StatusCode::kDeadlineExceeded) << sts[1];
  EXPECT_EQ(late.load(), 1) << "answered (or dropped) after its run-out, having asked with 400 ms to go";

  ASSERT_TRUE(Observe(l, obs_l, &o).ok());  // its 400 ms start now
  absl::BlockingCounter third(3);
  act(2, busy, 0, &third);
  while (engine_->decode_depth() != 0) std::this_thread::yield();  // the busy Act is being decoded
  act(3, l, obs_l.timestamp_us() + 400000, &third);
  act(4, c, 0, &third, absl::Now() + absl::Milliseconds(300));
  third.Wait();
  EXPECT_TRUE(sts[2].ok()) << sts[2];
  EXPECT_EQ(sts[3].code(), absl::StatusCode::kDeadlineExceeded) << sts[3];
  EXPECT_EQ(sts[4].code(), absl::StatusCode::kDeadlineExceeded) << sts[4];
  EXPECT_EQ(late.load(), 2) << "L dropped for its run-out: late; C dropped for its gRPC deadline: not";

  absl::BlockingCounter fourth(1);
  act(5, l, obs_l.timestamp_us() + 20000000, &fourth);
  fourth.Wait();
  EXPECT_TRUE(sts[5].ok()) << sts[5];
  EXPECT_EQ(late.load(), 2) << "in time";
}

}  // namespace
}  // namespace mivla::server
