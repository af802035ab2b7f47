// Success-gated rollout in ModelManager on the fake runtime, with simulated robots: canary trials that
// end in rollback (a worse canary) and promotion (an equal one) by the test, sticky sessions, the
// rejected file never loaded again (also after a restart), operator promote / rollback / pin, the pin
// file, and configuration errors.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/util/log.h"
#include "gtest/gtest.h"
#include "server/model_manager/model_manager.h"
#include "server/runtime_api/fake_policy_runtime.h"

namespace mivla::server {
namespace {

// Robots sharing the server: `robots` sessions at a time, each ending after `episodes_per_session`
// episodes and replaced by a new session. Each episode succeeds with the probability of the version its
// session holds (seeded draws) and is reported through EpisodeEnded.
class Fleet {
 public:
  Fleet(ModelManager* mm, std::map<std::string, double> success, int robots, int episodes_per_session, uint64_t seed)
      : mm_(mm), success_(std::move(success)), robots_(robots), per_session_(episodes_per_session), rng_(seed) {}

  /// Runs episodes until `until()` holds (checked before each) or `max_episodes` ran.
  void Run(const std::function<bool()>& until, int max_episodes) {
    for (int e = 0; e < max_episodes && !until(); ++e) Episode();
  }

  void Episode() {
    Robot& r = robots_[next_++ % robots_.size()];
    if (r.left == 0) {
      ModelManager::SessionVersion v = mm_->ForNewSession();
      EXPECT_TRUE(v.sticky);
      r.held = v.runtime;
      r.left = per_session_;
      ++sessions_by_version[r.held->info().version];
    }
    const std::string version = r.held->info().version;
    const bool success = std::bernoulli_distribution(success_.at(version))(rng_);
    std::shared_ptr<const PolicyRuntime> next = mm_->EpisodeEnded(r.held, success);
    if (next != r.held) {
      // A session moves only at an episode's end, only off a retired version, and only to the incumbent.
      const RolloutStatus st = mm_->rollout_status();
      const bool live = version == st.incumbent->version || (st.canary && version == st.canary->version);
      if (live || next != mm_->current()) ++illegal_moves;
      ++moves;
    }
    r.held = next;
    --r.left;
    ++episodes;
  }

  /// Sessions in progress on `version`.
  int On(const std::string& version) const {
    int n = 0;
    for (const Robot& r : robots_) n += r.left > 0 && r.held->info().version == version;
    return n;
  }

  std::map<std::string, int> sessions_by_version;
  int episodes = 0;
  int moves = 0;
  int illegal_moves = 0;

 private:
  struct Robot {
    std::shared_ptr<const PolicyRuntime> held;
    int left = 0;
  };
  ModelManager* mm_;
  std::map<std::string, double> success_;
  std::vector<Robot> robots_;
  int per_session_;
  std::mt19937_64 rng_;
  size_t next_ = 0;
};

class RolloutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogQuiet(true);
    dir_ = std::filesystem::temp_directory_path() /
           ("rollout_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    loader_ = std::make_shared<FakeRuntimeLoader>();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A fake checkpoint of `version` whose modification time is `age_s` seconds ago (order without sleeping).
  void Write(const std::string& name, const std::string& version, int age_s) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << FakeCheckpoint(version);
    struct timespec times[2];
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= age_s;
    times[1] = times[0];
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }
  ModelManager::Options Opts(double share = 0.5, int64_t min_episodes = 30) {
    ModelManager::Options o;
    o.model_dir = dir_.string();
    o.poll_interval = absl::ZeroDuration();  // tests poll by hand
    o.settle_time = absl::ZeroDuration();
    o.warm_batch_size = 2;
    o.loader = loader_;
    o.rollout.canary_share = share;
    o.rollout.min_episodes = min_episodes;
    o.rollout.alpha = 0.05;
    o.rollout.seed = 11;
    return o;
  }
  std::unique_ptr<ModelManager> StartManager(ModelManager::Options o) {
    auto mm = ModelManager::Create(std::move(o));
    EXPECT_TRUE(mm.ok()) << mm.status();
    if (!mm.ok()) return nullptr;
    EXPECT_TRUE((*mm)->Start().ok());
    (*mm)->Stop();  // no poll thread: decisions and Unpin wake it, and the tests scan by hand
    return *std::move(mm);
  }
  // v1 serves from a.mivla, then b.mivla (v2) arrives and starts a trial.
  std::unique_ptr<ModelManager> IncumbentAndCanary(ModelManager::Options o) {
    Write("a.mivla", "v1", 100);
    auto mm = StartManager(std::move(o));
    EXPECT_EQ(mm->current()->info().version, "v1");
    Write("b.mivla", "v2", 50);
    EXPECT_TRUE(mm->PollOnce());
    EXPECT_EQ(mm->current()->info().version, "v1");  // the canary serves beside it, not instead
    EXPECT_TRUE(mm->rollout_status().canary.has_value());
    return mm;
  }
  std::string StateFile() const {
    std::ifstream in(dir_ / RolloutStore::kFileName);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  std::filesystem::path dir_;
  std::shared_ptr<FakeRuntimeLoader> loader_;
};

TEST_F(RolloutTest, WorseCanaryIsRolledBackAndItsFileRejected) {
  auto mm = IncumbentAndCanary(Opts());
  ASSERT_EQ(mm->rollout_status().canary->version, "v2");
  // 12 robots, 4 episodes per session; the canary succeeds 30 % of the time, the incumbent 80 %.
  Fleet fleet(mm.get(), {{"v1", 0.8}, {"v2", 0.3}}, 12, 4, /*seed=*/1);
  fleet.Run([&] { return mm->rollout_status().last_decision.has_value(); }, 2000);
  const RolloutStatus st = mm->rollout_status();
  ASSERT_TRUE(st.last_decision.has_value());
  const RolloutDecisionRecord& d = *st.last_decision;
  EXPECT_EQ(d.verdict, RolloutVerdict::kRollback);
  EXPECT_FALSE(d.by_operator);
  EXPECT_LT(d.p_value, 0.05);
  EXPECT_EQ(d.canary.version, "v2");
  EXPECT_EQ(d.canary.checkpoint, "b.mivla");
  EXPECT_GE(d.canary.counts.episodes, 30);
  EXPECT_GE(d.incumbent.counts.episodes, 30);
  EXPECT_LT(d.canary.counts.successes * d.incumbent.counts.episodes,
            d.incumbent.counts.successes * d.canary.counts.episodes);
  EXPECT_GT(fleet.sessions_by_version["v2"], 0);
  EXPECT_GT(fleet.sessions_by_version["v1"], fleet.sessions_by_version["v2"] / 2);
  // Nobody changed version during the trial (at most the episode that decided it moved its session).
  const int at_decision = fleet.moves;
  EXPECT_LE(at_decision, 1);
  EXPECT_EQ(fleet.illegal_moves, 0);
  EXPECT_EQ(st.decisions.rolled_back_by_test, 1);
  EXPECT_EQ(st.incumbent->version, "v1");
  EXPECT_FALSE(st.canary.has_value());
  EXPECT_EQ(st.rejected_checkpoints, 1u);
  EXPECT_NE(StateFile().find("\"b.mivla\""), std::string::npos);

  // Sessions still on v2 finish their episode on it, then move to v1; new sessions all get v1.
  const int on_canary = fleet.On("v2");
  fleet.Run([] { return false; }, 12 * 4);
  EXPECT_EQ(fleet.On("v2"), 0);
  EXPECT_EQ(fleet.moves - at_decision, on_canary);
  EXPECT_EQ(fleet.illegal_moves, 0);
  EXPECT_EQ(mm->rollout_status().retired_episodes, on_canary);
  // b.mivla is not tried again.
  const int64_t loads = loader_->loads();
  EXPECT_FALSE(mm->PollOnce());
  EXPECT_EQ(loader_->loads(), loads);
}

TEST_F(RolloutTest, EqualCanaryIsPromotedAndSessionsMoveAtTheirEpisodeEnd) {
  auto mm = IncumbentAndCanary(Opts());
  Fleet fleet(mm.get(), {{"v1", 0.8}, {"v2", 0.8}}, 12, 4, /*seed=*/2);
  fleet.Run([&] { return mm->rollout_status().last_decision.has_value(); }, 2000);
  const RolloutStatus st = mm->rollout_status();
  ASSERT_TRUE(st.last_decision.has_value());
  EXPECT_EQ(st.last_decision->verdict, RolloutVerdict::kPromote);
  EXPECT_GE(st.last_decision->p_value, 0.05);
  const int at_decision = fleet.moves;  // the deciding episode's session, if it was on v1
  EXPECT_LE(at_decision, 1);
  EXPECT_EQ(fleet.illegal_moves, 0);
  EXPECT_EQ(st.decisions.promoted_by_test, 1);
  EXPECT_EQ(mm->current()->info().version, "v2");
  EXPECT_FALSE(st.canary.has_value());
  EXPECT_EQ(st.rejected_checkpoints, 0u);
  EXPECT_NE(StateFile().find("\"incumbent\": {"), std::string::npos);
  EXPECT_NE(StateFile().find("\"b.mivla\""), std::string::npos);
  const int on_old = fleet.On("v1");
  EXPECT_GT(on_old, 0);
  fleet.Run([] { return false; }, 12 * 4);
  EXPECT_EQ(fleet.On("v1"), 0);
  EXPECT_EQ(fleet.moves - at_decision, on_old);
  EXPECT_EQ(fleet.illegal_moves, 0);
  // The next newer checkpoint gets its own trial against v2.
  Write("c.mivla", "v3", 10);
  EXPECT_TRUE(mm->PollOnce());
  EXPECT_EQ(mm->rollout_status().canary->version, "v3");
  EXPECT_EQ(mm->rollout_status().incumbent->counts.episodes, 0);  // counts start with the trial
}

TEST_F(RolloutTest, RejectedCheckpointIsNotLoadedAgainAfterARestart) {
  {
    auto mm = IncumbentAndCanary(Opts());
    ASSERT_TRUE(mm->RollbackCanary().ok());
  }
  const int64_t loads = loader_->loads();
  auto again = StartManager(Opts());  // a new server over the same directory
  EXPECT_EQ(again->current()->info().version, "v1");
  EXPECT_FALSE(again->PollOnce());
  EXPECT_FALSE(again->rollout_status().canary.has_value());
  EXPECT_EQ(loader_->loads(), loads + 1);  // a.mivla only
  // Without canaries (latest mode) the rejection holds too.
  ModelManager::Options latest = Opts(0);
  auto plain = StartManager(latest);
  EXPECT_EQ(plain->current()->info().version, "v1");
  EXPECT_FALSE(plain->PollOnce());
  // The trainer rewrites b.mivla with another checkpoint: that is a new candidate.
  Write("b.mivla", "v2b", 5);
  EXPECT_TRUE(again->PollOnce());
  EXPECT_EQ(again->rollout_status().canary->version, "v2b");
}

TEST_F(RolloutTest, RestartServesTheRecordedIncumbentAndRetriesTheCanary) {
  {
    auto mm = IncumbentAndCanary(Opts());
    Fleet fleet(mm.get(), {{"v1", 0.8}, {"v2", 0.8}}, 4, 2, 3);
    fleet.Run([] { return false; }, 20);  // mid-trial
  }
  auto again = StartManager(Opts());
  EXPECT_EQ(again->current()->info().version, "v1");  // not the newer, untried b.mivla
  EXPECT_TRUE(again->PollOnce());
  const RolloutStatus st = again->rollout_status();
  EXPECT_EQ(st.canary->version, "v2");
  EXPECT_EQ(st.canary->counts.episodes, 0);  // the trial restarts from zero
}

TEST_F(RolloutTest, OperatorPromotesRollsBackAndPins) {
  auto mm = IncumbentAndCanary(Opts());
  ASSERT_TRUE(mm->PromoteCanary().ok());
  RolloutStatus st = mm->rollout_status();
  EXPECT_EQ(st.incumbent->version, "v2");
  EXPECT_TRUE(st.last_decision->by_operator);
  EXPECT_EQ(st.decisions.promoted_by_operator, 1);
  EXPECT_EQ(mm->PromoteCanary().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mm->RollbackCanary().code(), absl::StatusCode::kFailedPrecondition);

  Write("c.mivla", "v3", 40);
  ASSERT_TRUE(mm->PollOnce());
  ASSERT_TRUE(mm->RollbackCanary().ok());
  st = mm->rollout_status();
  EXPECT_EQ(st.decisions.rolled_back_by_operator, 1);
  EXPECT_EQ(st.rejected_checkpoints, 1u);
  EXPECT_EQ(st.incumbent->version, "v2");

  // Pin an older version by its version string: loaded again, it alone serves, nothing reloads.
  ASSERT_TRUE(mm->Pin("v1").ok());
  st = mm->rollout_status();
  EXPECT_EQ(st.mode, "pinned");
  EXPECT_EQ(st.pinned, "v1");
  EXPECT_EQ(mm->current()->info().version, "v1");
  Write("d.mivla", "v4", 30);
  EXPECT_FALSE(mm->PollOnce());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(mm->ForNewSession().runtime->info().version, "v1");
  // Unpinned, the newest non-rejected file newer than the incumbent gets a trial.
  mm->Unpin();
  EXPECT_EQ(mm->rollout_status().mode, "canary");
  ASSERT_TRUE(mm->PollOnce());
  EXPECT_EQ(mm->rollout_status().canary->version, "v4");
  // Pinning the canary by file name promotes it; pinning the incumbent ends a trial without a verdict.
  ASSERT_TRUE(mm->Pin("d.mivla").ok());
  EXPECT_EQ(mm->current()->info().version, "v4");
  mm->Unpin();
  Write("e.mivla", "v5", 20);
  ASSERT_TRUE(mm->PollOnce());
  ASSERT_TRUE(mm->Pin("v4").ok());
  st = mm->rollout_status();
  EXPECT_FALSE(st.canary.has_value());
  EXPECT_EQ(st.rejected_checkpoints, 1u);  // e.mivla is not rejected
  EXPECT_EQ(mm->Pin("v9").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(mm->current()->info().version, "v4");
}

TEST_F(RolloutTest, PinFlagAndPinFile) {
  Write("a.mivla", "v1", 100);
  Write("b.mivla", "v2", 50);
  ModelManager::Options o = Opts();
  o.rollout.pin_version = "a.mivla";
  auto pinned = StartManager(o);
  EXPECT_EQ(pinned->current()->info().version, "v1");
  EXPECT_FALSE(pinned->PollOnce());
  o.rollout.pin_version = "nothing";
  auto bad = ModelManager::Create(o);
  ASSERT_TRUE(bad.ok());
  absl::Status s = (*bad)->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--pin-version nothing"), absl::string_view::npos);

  const std::string pin = (dir_ / "pin").string();
  o.rollout.pin_version.clear();
  o.rollout.pin_file = pin;
  std::ofstream(pin) << "v1\n";
  auto by_file = StartManager(o);
  EXPECT_EQ(by_file->current()->info().version, "v1");
  EXPECT_EQ(by_file->rollout_status().mode, "pinned");
  EXPECT_FALSE(by_file->PollOnce());
  std::ofstream(pin, std::ios::trunc) << "";  // unpin: the next scan starts a trial of v2
  EXPECT_TRUE(by_file->PollOnce());
  EXPECT_EQ(by_file->rollout_status().canary->version, "v2");
  std::ofstream(pin, std::ios::trunc) << "v2";  // pin the canary: promoted
  EXPECT_FALSE(by_file->PollOnce());
  EXPECT_EQ(by_file->current()->info().version, "v2");
  EXPECT_EQ(by_file->rollout_status().mode, "pinned");
}

TEST_F(RolloutTest, LatestModeKeepsTodaysBehaviour) {
  Write("a.mivla", "v1", 100);
  auto mm = StartManager(Opts(0));
  ModelManager::SessionVersion v = mm->ForNewSession();
  EXPECT_FALSE(v.sticky);
  EXPECT_EQ(mm->EpisodeEnded(nullptr, true), nullptr);  // counted for the incumbent
  Write("b.mivla", "v2", 50);
  EXPECT_TRUE(mm->PollOnce());  // swapped, no trial
  const RolloutStatus st = mm->rollout_status();
  EXPECT_EQ(st.mode, "latest");
  EXPECT_EQ(st.incumbent->version, "v2");
  EXPECT_FALSE(st.canary.has_value());
  EXPECT_EQ(mm->PromoteCanary().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(dir_ / RolloutStore::kFileName));  // nothing recorded
}

TEST_F(RolloutTest, ConfigurationErrorsNameTheFlag) {
  ModelManager::Options o = Opts();
  o.model_dir.clear();
  o.random_init = true;
  EXPECT_EQ(ModelManager::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o = Opts();
  o.rollout.state_dir = (dir_ / "missing").string();
  absl::Status s = ModelManager::Create(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("--rollout-state-dir"), absl::string_view::npos);
  o = Opts(2.0);
  EXPECT_NE(ModelManager::Create(o).status().message().find("--canary-share"), absl::string_view::npos);
  std::ofstream((dir_ / RolloutStore::kFileName).string()) << "[]";
  s = ModelManager::Create(Opts()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(RolloutStore::kFileName), absl::string_view::npos);
}

}  // namespace
}  // namespace mivla::server
