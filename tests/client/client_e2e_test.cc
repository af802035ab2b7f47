// File: client_e2e_test.cc
// The robot client against a real mivla-server (--random-init --config tiny, a child process):
//  - one short episode each with a simulated PiPER and a simulated LocoMan (both arms), reported to the
//    server (its episode counter sees them);
//  - the fault test: the server is killed mid-episode (real-time PiPER at 25 Hz); within one control
//    period the robot holds its position, no joint passes a limit at any time, and when the server
//    comes back on the same port the client reconnects and the episode goes on with fresh chunks.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "client/eval/sim_episode.h"
#include "client/robot/client_metrics.h"
#include "client/tools/server_child.h"
#include "core/metrics/text_format.h"
#include "core/util/log.h"
#include "gtest/gtest.h"

namespace mivla::client {
namespace {



int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string LogPath(const std::string& name) { return ::testing::TempDir() + "/" + name + ".log"; }

std::unique_ptr<ServerProcess> StartServer(int port, const std::string& name) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> s = ServerProcess::Start(MIVLA_SERVER_BIN, port, LogPath(name));
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

SimEpisodeOptions Episode(const std::string& target, action::Embodiment e, const std::string& task) {
  SimEpisodeOptions o;
  o.driver.embodiment = e;
  o.driver.task = task;
  o.driver.seed = 11;
  o.connection.target = target;
  o.connection.rpc_timeout_ms = 20000;  // a loaded CI machine; the first call warms the model up
  o.connection.connect_timeout_ms = 5000;
  o.client.seed = 5;
  return o;
}

bool WithinLimits(const kinematics::EmbodimentDescription& robot, const RobotReading& r, std::string* why) {
  for (size_t a = 0; a < robot.arms.size(); ++a) {
    const kinematics::KinematicChain& c = robot.arms[a].chain;
    for (int j = 0; j < c.num_joints(); ++j) {
      const double q = r.arms[a].joints[j];
      // 2 mrad for the position controller's tracking error at a limit
      if (q < c.lower()[j] - 2e-3 || q > c.upper()[j] + 2e-3) {
        *why = absl::StrCat("arm ", a, " joint ", j, " at ", q, " outside [", c.lower()[j], ", ", c.upper()[j], "]");
        return false;
      }
    }
  }
  return true;
}

class ClientE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SetLogQuiet(true); }
};

TEST_F(ClientE2eTest, SimulatedPiperAndLocomanRunAnEpisodeEach) {
  std::unique_ptr<ServerProcess> server = StartServer(FreePort(), "e2e_server");
  ASSERT_NE(server, nullptr);
  struct Case {
    action::Embodiment e;
    std::string task;
  };
  metrics::Registry registry;
  std::unique_ptr<ClientMetrics> metrics = *ClientMetrics::Create(&registry);
  int64_t chunks = 0;
  for (const Case& c : {Case{action::Embodiment::kPiper, "press_bell"}, Case{action::Embodiment::kLocoman, "lift_pot"}}) {
    SCOPED_TRACE(std::string(action::EmbodimentName(c.e)));
    SimEpisodeOptions o = Episode(server->target(), c.e, c.task);
    o.metrics = metrics.get();
    o.max_steps = 24;  // a short episode, as fast as possible (lockstep with the server)
    o.record_trace = true;
    absl::StatusOr<EpisodeResult> r = RunSimEpisode(o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->steps, 24);
    EXPECT_EQ(r->client.ticks, 24);
    EXPECT_GE(r->client.chunks, 2);  // 40 steps at 25 Hz (16 model steps at 10 Hz), refilled when 70% remain
    EXPECT_EQ(r->client.failed_requests, 0);
    EXPECT_EQ(r->client.fresh_ticks, 24);  // lockstep: every tick has an action of a fresh chunk
    ASSERT_EQ(r->trace.size(), 24u);
    EXPECT_EQ(r->trace[0].size(), static_cast<size_t>(action::NumArms(c.e)));
    EXPECT_FALSE(r->instruction.empty());
    chunks += r->client.chunks;
  }
  // Lockstep with a fixed Act seed is reproducible: the same PiPER episode again moves the same way.
  {
    SimEpisodeOptions o = Episode(server->target(), action::Embodiment::kPiper, "press_bell");
    o.max_steps = 24;
    o.record_trace = true;
    absl::StatusOr<EpisodeResult> a = RunSimEpisode(o);
    absl::StatusOr<EpisodeResult> b = RunSimEpisode(o);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->trace.size(), b->trace.size());
    double diff = 0.0;
    for (size_t k = 0; k < a->trace.size(); ++k) diff = std::max(diff, (a->trace[k][0] - b->trace[k][0]).norm());
    EXPECT_LT(diff, 1e-6);
    EXPECT_GT((a->trace.back()[0] - a->trace.front()[0]).norm(), 1e-3);  // it did move
  }
  // The client's own metrics saw the same ticks and chunks.
  const std::string mine = registry.Expose();
  EXPECT_EQ(metrics::SampleValue(mine, R"(mivla_client_ticks_total{source="chunk"})"), 48) << mine;
  EXPECT_EQ(metrics::SampleValue(mine, R"(mivla_client_ticks_total{source="hold"})"), 0);
  EXPECT_EQ(metrics::SampleValue(mine, "mivla_client_chunks_total"), chunks);
  EXPECT_EQ(metrics::SampleValue(mine, "mivla_client_chunk_round_trip_seconds_count"), chunks);
  EXPECT_GT(metrics::SampleValue(mine, "mivla_client_chunk_round_trip_seconds_sum"), 0.0);
  const std::string scrape = server->ScrapeMetrics();
  EXPECT_EQ(metrics::SampleValue(scrape, R"(mivla_episodes_total{embodiment="PIPER",task="press_bell"})"), 3) << scrape;
  EXPECT_EQ(metrics::SampleValue(scrape, R"(mivla_episodes_total{embodiment="LOCOMAN",task="lift_pot"})"), 1);
}

TEST_F(ClientE2eTest, ServerKilledMidEpisodeRobotHoldsThenReconnects) {
  const int port = FreePort();
  std::unique_ptr<ServerProcess> server = StartServer(port, "fault_server");
  ASSERT_NE(server, nullptr);
  SimEpisodeOptions o = Episode(server->target(), action::Embodiment::kPiper, "press_bell");
  o.driver.real_time = true;
  o.driver.camera_period_s = 0.2;
  o.connection.rpc_timeout_ms = 5000;
  o.connection.backoff = {50, 400, 2.0};
  o.report = true;
  o.client.record_ticks = true;  // tick start times, to place the hold against the moment the loss was noticed
  metrics::Registry registry;
  std::unique_ptr<ClientMetrics> metrics = *ClientMetrics::Create(&registry);
  o.metrics = metrics.get();
  const int64_t period_us = 40000;
  const int64_t kill_tick = 30;
  int64_t kill_us = -1, first_hold_us = -1, first_hold_tick = -1, restart_done_tick = -1, resumed_tick = -1;
  std::vector<int64_t> tick_no;  // the control tick of each on_tick call
  int64_t fresh_after_resume = 0, ticks = 0;
  std::string limit_violation;
  std::vector<kinematics::JointVector> held;  // measured joints at every server-lost hold tick
  std::vector<kinematics::JointVector> commanded;  // commanded joints of every tick
  std::vector<HoldReason> reasons;                 // the hold reason of every tick
  std::string command_violation;
  std::thread restarter;
  std::unique_ptr<ServerProcess> second;
  std::atomic<bool> second_up{false}, test_done{false};
  o.max_steps = 400;
  o.on_tick = [&](const TickInfo& t, SimDriver& d) {
    ++ticks;
    std::string why;
    if (limit_violation.empty() && !WithinLimits(d.embodiment(), *t.reading, &why)) limit_violation = why;
    RobotReading cmd;
    cmd.arms.resize(t.command->arms.size());
    for (size_t a = 0; a < cmd.arms.size(); ++a) cmd.arms[a].joints = t.command->arms[a].joints;
    if (command_violation.empty() && !WithinLimits(d.embodiment(), cmd, &why)) command_violation = why;
    commanded.push_back(t.command->arms[0].joints);
    reasons.push_back(t.hold);
    tick_no.push_back(t.tick);
    if (t.tick == kill_tick) {
      server->Kill();
      kill_us = WallUs();
      // Bring it back on the same port a second later, off the control thread. The thread lives until
      // the test is done: the child dies with the thread that started it (PR_SET_PDEATHSIG).
      restarter = std::thread([&] {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        second = StartServer(port, "fault_server_restarted");
        second_up.store(second != nullptr);
        while (!test_done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        second.reset();
      });
    }
    if (kill_us >= 0 && t.hold != HoldReason::kNone && first_hold_us < 0) {
      first_hold_us = WallUs();
      first_hold_tick = t.tick;
    }
    if (kill_us >= 0 && resumed_tick < 0 && t.hold == HoldReason::kServerLost) held.push_back(t.reading->arms[0].joints);
    if (second_up.load() && restart_done_tick < 0) restart_done_tick = t.tick;
    if (first_hold_us >= 0 && t.hold == HoldReason::kNone) {
      if (resumed_tick < 0) resumed_tick = t.tick;
      ++fresh_after_resume;
    }
    return resumed_tick < 0 || t.tick < resumed_tick + 50;  // go on 2 s after the resume
  };
  absl::StatusOr<EpisodeResult> r = RunSimEpisode(o);
  // The report at the end went to the restarted server.
  const std::string scrape = second_up.load() ? second->ScrapeMetrics() : "";
  test_done.store(true);
  if (restarter.joinable()) restarter.join();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_GE(kill_us, 0);
  std::printf(
      "fault figures: loss noticed %lld us and first hold %lld us after the kill, %zu server-lost hold ticks, resumed "
      "at tick %lld "
      "(killed at %lld), %lld fresh ticks after, %lld reconnects\n",
      static_cast<long long>(r->client.last_server_lost_us - kill_us), static_cast<long long>(first_hold_us - kill_us),
      held.size(), static_cast<long long>(resumed_tick), static_cast<long long>(kill_tick),
      static_cast<long long>(fresh_after_resume), static_cast<long long>(r->client.reconnects));
  ASSERT_GE(first_hold_us, 0) << "the robot never held after the kill";
  size_t lost = 0;  // index of the first server-lost hold tick (the kill is at tick 30)
  while (lost < reasons.size() && (lost <= static_cast<size_t>(kill_tick) || reasons[lost] != HoldReason::kServerLost)) ++lost;
  ASSERT_LT(lost, reasons.size()) << "no server-lost hold after the kill";
  // The client notices the loss within one control period of the kill (the Act in flight fails when the
  // socket closes), and the robot holds from the first tick that starts after that. Wall-clock tick
  // times alone cannot tell: a kill late in a tick leaves a few ms before the next one starts.
  const int64_t noticed = r->client.last_server_lost_us;
  ASSERT_GE(noticed, 0) << "the client never noticed the server gone";
  EXPECT_LE(noticed - kill_us, period_us) << "the loss was noticed " << (noticed - kill_us) << " us after the kill";
  const std::vector<int64_t>& starts = r->client.tick_start_us;
  ASSERT_EQ(starts.size(), reasons.size());
  EXPECT_LT(starts[lost - 1], noticed) << "tick " << tick_no[lost - 1] << " started " << (starts[lost - 1] - noticed)
                                       << " us after the loss was noticed and did not hold (first hold at tick "
                                       << tick_no[lost] << ")";
  EXPECT_LE(first_hold_tick, tick_no[lost]);
  // From then on the commanded joints decelerate monotonically within the acceleration limit (each
  // tick's step no larger than the previous one and shorter by at most a*T^2) and come to rest within
  // v/a + one period, v the fastest joint's speed when the hold began.
  const double dt = period_us * 1e-6, a_max = o.client.safety.max_acceleration, eps = 1e-9;
  ASSERT_GE(lost, 1u);
  size_t end = lost;
  while (end < reasons.size() && reasons[end] == HoldReason::kServerLost) ++end;
  ASSERT_GE(end - lost, 15u) << "the server was down for 1 s, so the robot held for more than 15 ticks";
  Eigen::VectorXd prev_step = (commanded[lost - 1] - commanded[lost - 2]).cwiseAbs();
  const double v0 = prev_step.maxCoeff() / dt;
  size_t rest = end;  // first hold tick with no motion
  for (size_t i = lost; i < end; ++i) {
    const Eigen::VectorXd step = (commanded[i] - commanded[i - 1]).cwiseAbs();
    for (int j = 0; j < step.size(); ++j) {
      EXPECT_LE(step[j], prev_step[j] + eps) << "tick " << i << " joint " << j << ": the hold accelerated";
      EXPECT_LE(prev_step[j] - step[j], a_max * dt * dt + eps) << "tick " << i << " joint " << j << ": braked harder than the limit";
    }
    if (rest == end && step.maxCoeff() <= eps) rest = i;
    prev_step = step;
  }
  ASSERT_LT(rest, end) << "the arm never came to rest while held";
  std::printf("hold: fastest joint at %.3f rad/s when it began, at rest after %zu ticks\n", v0, rest - lost);
  EXPECT_LE((rest - lost) * dt, v0 / a_max + dt + eps)
      << "at rest " << rest - lost << " ticks into the hold; v = " << v0 << " rad/s";
  for (size_t i = rest; i < end; ++i) EXPECT_LE((commanded[i] - commanded[rest]).cwiseAbs().maxCoeff(), eps) << "moved at rest, tick " << i;
  // The measured arm follows: it stays within 0.01 rad of the final held pose once the command rests
  // (the position controller settles within a few ticks).
  double drift = 0.0;
  for (size_t i = std::min(held.size(), rest - lost + 5); i < held.size(); ++i) {
    drift = std::max(drift, (held[i] - held.back()).cwiseAbs().maxCoeff());
  }
  EXPECT_LT(drift, 0.01) << "the arm moved while holding";
  EXPECT_TRUE(limit_violation.empty()) << limit_violation;
  EXPECT_TRUE(command_violation.empty()) << "commanded: " << command_violation;
  EXPECT_GE(r->safety.holds[static_cast<int>(HoldReason::kServerLost)], 1);
  EXPECT_EQ(r->client.reconnects, 1);
  ASSERT_GE(resumed_tick, 0) << "the episode never resumed after the server came back";
  EXPECT_GE(fresh_after_resume, 40);
  EXPECT_EQ(r->steps, ticks);
  EXPECT_EQ(metrics::SampleValue(scrape, R"(mivla_episodes_total{embodiment="PIPER",task="press_bell"})"), 1);
  const std::string mine = registry.Expose();
  EXPECT_EQ(metrics::SampleValue(mine, R"(mivla_client_holds_total{reason="server_lost"})"), 1) << mine;
  EXPECT_EQ(metrics::SampleValue(mine, "mivla_client_reconnects_total"), 1);
  EXPECT_EQ(metrics::SampleValue(mine, "mivla_client_server_connected"), 1);
  EXPECT_GE(metrics::SampleValue(mine, R"(mivla_client_ticks_total{source="hold"})"), static_cast<double>(held.size()));
  EXPECT_EQ(metrics::SampleValue(mine, "mivla_client_control_period_seconds_count"), static_cast<double>(ticks - 1));
}

// TLS with a self-signed certificate and a bearer token: the configured client runs; a client without the
// token is refused (UNAUTHENTICATED) and a plaintext one cannot talk to the TLS port.
TEST_F(ClientE2eTest, TlsAndBearerToken) {
  const std::string dir = ::testing::TempDir() + "/client_tls";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  const std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
                          "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " + dir + "/key.pem -out " + dir +
                          "/cert.pem > " + dir + "/openssl.log 2>&1";
  ASSERT_EQ(std::system(gen.c_str()), 0) << "openssl failed; see " << dir << "/openssl.log";
  std::ofstream(dir + "/tokens.txt") << "# robots\nrobot-secret-1\n";
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(
      MIVLA_SERVER_BIN, 0, LogPath("tls_server"),
      {"--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem", "--token-file", dir + "/tokens.txt"});
  ASSERT_TRUE(server.ok()) << server.status();
  SimEpisodeOptions o = Episode((*server)->target(), action::Embodiment::kPiper, "press_bell");
  o.max_steps = 10;
  o.connection.tls = true;
  o.connection.root_cert_file = dir + "/cert.pem";
  o.connection.token = "robot-secret-1";
  absl::StatusOr<EpisodeResult> r = RunSimEpisode(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->client.fresh_ticks, 10);

  o.connection.token = "wrong";
  EXPECT_EQ(RunSimEpisode(o).status().code(), absl::StatusCode::kUnauthenticated);
  o.connection.token.clear();
  EXPECT_EQ(RunSimEpisode(o).status().code(), absl::StatusCode::kUnauthenticated);
  o.connection.token = "robot-secret-1";
  o.connection.tls = false;
  o.connection.connect_timeout_ms = 1000;
  EXPECT_FALSE(RunSimEpisode(o).ok());
}

}  // namespace
}  // namespace mivla::client
