#include "server/session/session_manager.h"

#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/runtime_api/fake_policy_runtime.h"

namespace mivla::server {
namespace {

SessionSpec Spec(action::Embodiment e) {
  SessionSpec s;
  s.embodiment = e;
  s.cameras = {{"head_camera", 320, 240}};
  s.instruction = "press the bell";
  return s;
}

std::shared_ptr<EncodedObservation> Obs(uint64_t id) {
  auto o = std::make_shared<EncodedObservation>();
  o->id = id;
  return o;
}

TEST(SessionManagerTest, StartGetEndAndUnknownIsNotFound) {
  auto sm = SessionManager::Create({});
  ASSERT_TRUE(sm.ok());
  auto s = (*sm)->Start(Spec(action::Embodiment::kPiper));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->id().size(), 32u);
  auto again = (*sm)->Get((*s)->id());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), s->get());
  EXPECT_EQ((*sm)->Get("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE((*sm)->End((*s)->id()).ok());
  EXPECT_EQ((*sm)->Get((*s)->id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*sm)->End((*s)->id()).code(), absl::StatusCode::kNotFound);
}

TEST(SessionManagerTest, LimitIsResourceExhaustedAndCountsByEmbodiment) {
  SessionManager::Options o;
  o.max_sessions = 2;
  auto sm = SessionManager::Create(o);
  ASSERT_TRUE((*sm)->Start(Spec(action::Embodiment::kPiper)).ok());
  ASSERT_TRUE((*sm)->Start(Spec(action::Embodiment::kLocoman)).ok());
  EXPECT_EQ((*sm)->Start(Spec(action::Embodiment::kPiper)).status().code(), absl::StatusCode::kResourceExhausted);
  auto counts = (*sm)->CountByEmbodiment();
  EXPECT_EQ(counts[static_cast<int>(action::Embodiment::kPiper)], 1u);
  EXPECT_EQ(counts[static_cast<int>(action::Embodiment::kLocoman)], 1u);
  EXPECT_EQ(counts[static_cast<int>(action::Embodiment::kHuman)], 0u);
}

TEST(SessionManagerTest, IdleSessionsExpireLazilyAndBySweeper) {
  SessionManager::Options o;
  o.idle_timeout = absl::Milliseconds(100);
  o.sweep_interval = absl::Milliseconds(20);
  auto sm = SessionManager::Create(o);
  auto a = (*sm)->Start(Spec(action::Embodiment::kArx5));
  auto b = (*sm)->Start(Spec(action::Embodiment::kArx5));
  for (int i = 0; i < 6; ++i) {  // keep `a` alive by using it
    absl::SleepFor(absl::Milliseconds(40));
    auto got = (*sm)->Get((*a)->id());
    ASSERT_TRUE(got.ok());
    (*got)->Touch(absl::Now());  // a successful call
    (void)(*sm)->Get((*b)->id());  // lookups alone (failing calls) do not keep `b` alive
  }
  EXPECT_EQ((*sm)->Get((*b)->id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*sm)->size(), 1u);
  EXPECT_EQ((*sm)->ExpireIdle(absl::Now() + absl::Seconds(1)), 1u);
  EXPECT_EQ((*sm)->size(), 0u);
}

TEST(SessionTest, AnOlderObservationsInstructionDoesNotReplaceANewerOnes) {
  // Encodes may finish out of order: the instruction in force is that of the newest observation that
  // carried one.
  auto sm = SessionManager::Create({});
  auto s = (*sm)->Start(Spec(action::Embodiment::kArx5));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->instruction(), "press the bell");
  (*s)->set_instruction("lift the pot", 2);
  (*s)->set_instruction("stack the blocks", 1);  // stored after #2
  EXPECT_EQ((*s)->instruction(), "lift the pot");
  (*s)->set_instruction("open the drawer", 3);
  EXPECT_EQ((*s)->instruction(), "open the drawer");
}

// A runtime whose teardown (the last session of a retired model version letting go of it) checks that
// other lookups still go through meanwhile. The lookup runs on a thread of its own that the test waits
// for (`done`) once the release is over, so a lock held through the teardown shows as `blocked` rather
// than as a deadlock.
class TeardownProbe : public FakePolicyRuntime {
 public:
  TeardownProbe(SessionManager* sessions, std::shared_ptr<absl::Notification> done, bool* blocked)
      : FakePolicyRuntime(FakeRuntimeOptions()), sessions_(sessions), done_(std::move(done)), blocked_(blocked) {}
  ~TeardownProbe() override {
    std::thread([sessions = sessions_, done = done_] {
      (void)sessions->Get("another-robot");
      done->Notify();
    }).detach();
    *blocked_ = !done_->WaitForNotificationWithTimeout(absl::Seconds(2));
  }

 private:
  SessionManager* sessions_;
  std::shared_ptr<absl::Notification> done_;
  bool* blocked_;
};

TEST(SessionManagerTest, ASessionIsReleasedOutsideTheManagersLock) {
  SessionManager::Options o;
  o.idle_timeout = absl::Milliseconds(50);
  o.sweep_interval = absl::Hours(1);  // only Get and End expire or end sessions here
  auto sm = SessionManager::Create(o);
  for (const bool by_end : {false, true}) {
    SCOPED_TRACE(by_end ? "End" : "an expired session's Get");
    bool blocked = true;
    auto done = std::make_shared<absl::Notification>();
    std::string id;
    {
      auto s = (*sm)->Start(Spec(action::Embodiment::kArx5));
      ASSERT_TRUE(s.ok());
      id = (*s)->id();
      (*s)->set_runtime(std::make_shared<TeardownProbe>(sm->get(), done, &blocked));
    }  // the manager holds the last reference
    if (by_end) {
      ASSERT_TRUE((*sm)->End(id).ok());
    } else {
      absl::SleepFor(absl::Milliseconds(120));
      EXPECT_EQ((*sm)->Get(id).status().code(), absl::StatusCode::kNotFound);
    }
    done->WaitForNotification();  // the lookup has returned before the manager can go
    EXPECT_FALSE(blocked);
  }
}

// size() is a lock-free count (the batch queues read it per batch): every way a session comes or goes
// moves it, a refused Start does not.
TEST(SessionManagerTest, SizeFollowsStartsEndsAndExpiries) {
  SessionManager::Options o;
  o.max_sessions = 3;
  o.idle_timeout = absl::Milliseconds(50);
  o.sweep_interval = absl::ZeroDuration();  // no sweeper: expiries only where this test makes them
  auto sm = SessionManager::Create(o);
  ASSERT_TRUE(sm.ok());
  EXPECT_EQ((*sm)->size(), 0u);
  auto a = (*sm)->Start(Spec(action::Embodiment::kPiper));
  auto b = (*sm)->Start(Spec(action::Embodiment::kArx5));
  auto c = (*sm)->Start(Spec(action::Embodiment::kHuman));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ((*sm)->size(), 3u);
  EXPECT_FALSE((*sm)->Start(Spec(action::Embodiment::kPiper)).ok());  // over the limit
  EXPECT_EQ((*sm)->size(), 3u);
  ASSERT_TRUE((*sm)->End((*a)->id()).ok());
  EXPECT_EQ((*sm)->size(), 2u);
  EXPECT_FALSE((*sm)->End((*a)->id()).ok());
  EXPECT_EQ((*sm)->size(), 2u);
  absl::SleepFor(absl::Milliseconds(80));
  EXPECT_EQ((*sm)->Get((*b)->id()).status().code(), absl::StatusCode::kNotFound);  // expired on lookup
  EXPECT_EQ((*sm)->size(), 1u);
  EXPECT_EQ((*sm)->ExpireIdle(absl::Now()), 1u);
  EXPECT_EQ((*sm)->size(), 0u);
}

TEST(SessionManagerTest, SessionsPerClientAreCapped) {
  SessionManager::Options o;
  o.max_sessions_per_client = 2;
  auto sm = SessionManager::Create(o);
  SessionSpec greedy = Spec(action::Embodiment::kPiper);
  greedy.client = "token#1";
  ASSERT_TRUE((*sm)->Start(greedy).ok());
  auto second = (*sm)->Start(greedy);
  ASSERT_TRUE(second.ok());
  absl::Status third = (*sm)->Start(greedy).status();
  EXPECT_EQ(third.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(third.message().find("--max-sessions-per-client"), std::string::npos);
  SessionSpec other = greedy;
  other.client = "token#2";
  EXPECT_TRUE((*sm)->Start(other).ok());
  EXPECT_TRUE((*sm)->Start(Spec(action::Embodiment::kPiper)).ok());  // no client: no per-client cap
  ASSERT_TRUE((*sm)->End((*second)->id()).ok());
  EXPECT_TRUE((*sm)->Start(greedy).ok());
}

TEST(SessionTest, ObservationHistoryKeepsLatestInIdOrder) {
  Session s("id", Spec(action::Embodiment::kPiper), 3);
  EXPECT_EQ(s.Observation(0).status().code(), absl::StatusCode::kFailedPrecondition);
  for (uint64_t id : {1, 3, 2, 4}) s.AddObservation(Obs(id));  // out of order arrival
  EXPECT_EQ((*s.Observation(0))->id, 4u);
  EXPECT_EQ((*s.Observation(2))->id, 2u);
  EXPECT_EQ(s.Observation(1).status().code(), absl::StatusCode::kNotFound);  // forgotten
  EXPECT_EQ(s.Observation(9).status().code(), absl::StatusCode::kNotFound);
  auto replacement = Obs(3);
  replacement->model_version = "v2";
  s.ReplaceObservation(replacement);
  EXPECT_EQ((*s.Observation(3))->model_version, "v2");
  EXPECT_EQ(s.NextObservationId(), 1u);
  EXPECT_EQ(s.NextObservationId(), 2u);
}

}  // namespace
}  // namespace mivla::server
