// Success-gated rollout through the whole server over a loopback socket, on the fake runtime: robots
// (gRPC StartSession / Observe / Act / ReportEpisode) whose episodes succeed with a per-version
// probability; every Act of a session answers with the version its StartSession named until the trial
// is decided; the decision and the versions show in GetPolicyInfo.rollout and /metrics; a rolled-back
// checkpoint is not served again by a new server over the same directory; operator pin by option.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/inference/test_requests.h"
#include "server/service/service_test_util.h"

namespace mivla::server {
namespace {

using action::Embodiment;
using ::testing::HasSubstr;
namespace t = ::mivla::server::testing;

class RolloutServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rollout_svc_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (s_.server) s_.server->Shutdown(absl::ZeroDuration());
    std::filesystem::remove_all(dir_);
  }
  void Write(const std::string& name, const std::string& version, int age_s) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << FakeCheckpoint(version);
    struct timespec times[2];
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= age_s;
    times[1] = times[0];
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }
  ServerOptions Options() {
    ServerOptions o = t::LoopbackOptions();
    o.random_init = false;
    o.model_dir = dir_.string();
    o.poll_interval = absl::ZeroDuration();  // scans on request only
    o.rollout.canary_share = 0.5;
    o.rollout.min_episodes = 12;
    o.rollout.alpha = 0.05;
    o.rollout.seed = 5;
    return o;
  }
  void Start(ServerOptions o) {
    if (s_.server) s_.server->Shutdown(absl::ZeroDuration());
    auto s = t::StartLoopback(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    s_ = *std::move(s);
  }
  mivla::v1::RolloutInfo Info() {
    grpc::ClientContext ctx;
    mivla::v1::GetPolicyInfoResponse info;
    EXPECT_TRUE(s_.stub->GetPolicyInfo(&ctx, {}, &info).ok());
    return info.rollout();
  }
  struct Robot {
    std::string session;
    std::string version;  // StartSession's answer
    int episodes_left = 0;
  };
  // One episode of one robot: a new session when its last one is used up, Observe + Act (the answer must
  // come from the session's version), then ReportEpisode with success drawn for that version.
  void Episode(Robot* r, const std::map<std::string, double>& success, std::mt19937_64* rng) {
    if (r->episodes_left == 0) {
      grpc::ClientContext ctx;
      mivla::v1::StartSessionResponse started;
      ASSERT_TRUE(s_.stub->StartSession(&ctx, t::StartRequest(Embodiment::kPiper), &started).ok());
      r->session = started.session_id();
      r->version = started.model_version();
      r->episodes_left = 3;
      ++sessions_by_version[r->version];
    }
    grpc::ClientContext octx, actx, ectx;
    mivla::v1::ObserveResponse o;
    ASSERT_TRUE(s_.stub->Observe(&octx, t::ObserveFor(Embodiment::kPiper, r->session, ++observations_), &o).ok());
    mivla::v1::ActRequest act;
    act.set_session_id(r->session);
    mivla::v1::ActResponse a;
    ASSERT_TRUE(s_.stub->Act(&actx, act, &a).ok());
    acts_off_version += o.model_version() != r->version || a.model_version() != r->version;
    mivla::v1::ReportEpisodeRequest report;
    report.set_session_id(r->session);
    report.set_task("press_bell");
    report.set_success(std::bernoulli_distribution(success.at(r->version))(*rng));
    mivla::v1::ReportEpisodeResponse done;
    ASSERT_TRUE(s_.stub->ReportEpisode(&ectx, report, &done).ok());
    --r->episodes_left;
  }
  // Runs robots in turn until the trial is decided (or `max` episodes).
  void RunUntilDecided(const std::map<std::string, double>& success, uint64_t seed, int max = 400) {
    std::mt19937_64 rng(seed);
    for (int e = 0; e < max && !Info().has_last_decision(); ++e) Episode(&robots_[e % robots_.size()], success, &rng);
  }

  std::filesystem::path dir_;
  t::LoopbackServer s_;
  std::vector<Robot> robots_ = std::vector<Robot>(6);
  std::map<std::string, int> sessions_by_version;
  int acts_off_version = 0;
  uint64_t observations_ = 0;
};

TEST_F(RolloutServiceTest, WorseCanaryIsRolledBackAndStaysRejectedAfterARestart) {
  Write("a.mivla", "v1", 100);
  Start(Options());
  Write("b.mivla", "v2", 50);
  s_.server->models().PollOnce();
  mivla::v1::RolloutInfo info = Info();
  EXPECT_EQ(info.mode(), "canary");
  EXPECT_EQ(info.incumbent().version(), "v1");
  EXPECT_EQ(info.canary().version(), "v2");
  EXPECT_EQ(info.canary().checkpoint(), "b.mivla");
  EXPECT_DOUBLE_EQ(info.canary_share(), 0.5);
  EXPECT_EQ(info.min_episodes(), 12u);
  const std::string during = s_.server->registry().Expose();
  EXPECT_THAT(during, HasSubstr("mivla_rollout_version{role=\"canary\",version=\"v2\"} 1"));
  EXPECT_THAT(during, HasSubstr("mivla_rollout_canary_share 0.5"));

  RunUntilDecided({{"v1", 0.9}, {"v2", 0.2}}, 1);
  info = Info();
  ASSERT_TRUE(info.has_last_decision());
  EXPECT_EQ(info.last_decision().decision(), "rollback");
  EXPECT_EQ(info.last_decision().by(), "test");
  EXPECT_LT(info.last_decision().p_value(), 0.05);
  EXPECT_GE(info.last_decision().canary().episodes(), 12u);
  EXPECT_EQ(info.last_decision().canary().version(), "v2");
  EXPECT_FALSE(info.has_canary());
  EXPECT_EQ(info.incumbent().version(), "v1");
  EXPECT_EQ(info.rejected_checkpoints(), 1u);
  EXPECT_GT(sessions_by_version["v2"], 0);
  EXPECT_EQ(acts_off_version, 0);  // every Observe and Act came from the session's own version

  const std::string metrics = s_.server->registry().Expose();
  EXPECT_THAT(metrics, HasSubstr("mivla_rollout_decisions_total{decision=\"rollback\",by=\"test\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("mivla_rollout_decisions_total{decision=\"promote\",by=\"test\"} 0"));
  EXPECT_THAT(metrics, HasSubstr("mivla_rollout_version{role=\"incumbent\",version=\"v1\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("mivla_rollout_version{role=\"canary\",version=\"v2\"} 0"));
  EXPECT_THAT(metrics, HasSubstr("mivla_rollout_mode{mode=\"canary\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("mivla_rollout_rejected_checkpoints 1"));
  EXPECT_THAT(metrics, HasSubstr("mivla_rollout_canary_share 0"));

  // A robot still on v2 finishes its episode on v2, then its session moves to v1 (re-encoded).
  for (Robot& r : robots_) {
    if (r.version != "v2" || r.episodes_left == 0) continue;
    grpc::ClientContext actx, ectx, a2ctx;
    mivla::v1::ActRequest act;
    act.set_session_id(r.session);
    mivla::v1::ActResponse a;
    ASSERT_TRUE(s_.stub->Act(&actx, act, &a).ok());
    EXPECT_EQ(a.model_version(), "v2");
    mivla::v1::ReportEpisodeRequest report;
    report.set_session_id(r.session);
    report.set_task("press_bell");
    mivla::v1::ReportEpisodeResponse done;
    ASSERT_TRUE(s_.stub->ReportEpisode(&ectx, report, &done).ok());
    ASSERT_TRUE(s_.stub->Act(&a2ctx, act, &a).ok());
    EXPECT_EQ(a.model_version(), "v1");
  }

  // A new server over the same directory serves v1 and never loads b.mivla.
  Start(Options());
  s_.server->models().PollOnce();
  info = Info();
  EXPECT_EQ(info.incumbent().version(), "v1");
  EXPECT_FALSE(info.has_canary());
  EXPECT_EQ(info.rejected_checkpoints(), 1u);
}

TEST_F(RolloutServiceTest, EqualCanaryIsPromotedAndPinIsShown) {
  Write("a.mivla", "v1", 100);
  Start(Options());
  Write("b.mivla", "v2", 50);
  s_.server->models().PollOnce();
  RunUntilDecided({{"v1", 0.7}, {"v2", 0.7}}, 2);
  mivla::v1::RolloutInfo info = Info();
  ASSERT_TRUE(info.has_last_decision());
  EXPECT_EQ(info.last_decision().decision(), "promote");
  EXPECT_GE(info.last_decision().p_value(), 0.05);
  EXPECT_EQ(info.incumbent().version(), "v2");
  EXPECT_EQ(acts_off_version, 0);
  grpc::ClientContext ctx;
  mivla::v1::GetPolicyInfoResponse full;
  ASSERT_TRUE(s_.stub->GetPolicyInfo(&ctx, {}, &full).ok());
  EXPECT_EQ(full.model_version(), "v2");
  EXPECT_THAT(s_.server->registry().Expose(),
              HasSubstr("mivla_rollout_decisions_total{decision=\"promote\",by=\"test\"} 1"));

  // Pinned by option (--pin-version): v1 alone serves, nothing else loads.
  ServerOptions pinned = Options();
  pinned.rollout.pin_version = "v1";
  Start(pinned);
  Write("c.mivla", "v3", 10);
  s_.server->models().PollOnce();
  info = Info();
  EXPECT_EQ(info.mode(), "pinned");
  EXPECT_EQ(info.pinned_version(), "v1");
  EXPECT_EQ(info.incumbent().version(), "v1");
  EXPECT_FALSE(info.has_canary());
  EXPECT_THAT(s_.server->registry().Expose(), HasSubstr("mivla_rollout_mode{mode=\"pinned\"} 1"));
}

}  // namespace
}  // namespace mivla::server
