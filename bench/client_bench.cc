// File: client_bench.cc
// mivla-bench-client: the robot client's timing against a live mivla-server (a --random-init tiny child
// process unless --server names one).
//  1. Control-loop period jitter at 50 Hz: a real-time simulated PiPER (20 ms period, cameras every
//     100 ms on their own thread) runs --seconds against the server; jitter = |tick interval - 20 ms|.
//  2. Fresh-chunk share under load: the same robot at 25 Hz while the server carries --sessions
//     sessions in all (the others are load robots: Observe + Act with two 320x240 frames, one request
//     per refill interval, 8 control periods, like a robot refilling at half a 16-step chunk).
// Prints JSON (--json) with the figures and the targets (jitter p99 <= 2 ms; >= 95 % fresh at 16).
//
//   build/bin/mivla-bench-client --json [--seconds 10] [--sessions 16] [--server HOST:PORT] [--out FILE]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/eval/sim_episode.h"
#include "client/robot/robot_config.h"
#include "client/tools/exit_code.h"
#include "core/util/flag_parser.h"
#include "client/tools/run_summary.h"
#include "client/tools/server_child.h"
#include "core/util/log.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"
#include "proto/request_builder.h"

namespace mivla::client {
namespace {

using Json = nlohmann::json;

SimEpisodeOptions RobotOptions(const std::string& target, double period_s, double seconds, int realtime_priority,
                               int64_t busy_wait_us) {
  SimEpisodeOptions o;
  o.driver.embodiment = action::Embodiment::kPiper;
  o.driver.task = "press_bell";
  o.driver.seed = 1;
  o.driver.real_time = true;
  o.driver.control_period_s = period_s;
  o.driver.camera_period_s = 0.1;
  o.connection.target = target;
  o.connection.rpc_timeout_ms = 10000;
  o.connection.connect_timeout_ms = 5000;
  o.client.record_ticks = true;
  o.client.realtime_priority = realtime_priority;
  o.client.busy_wait_us = busy_wait_us;
  o.client.task = "bench";
  o.max_steps = static_cast<int64_t>(seconds / period_s);
  o.report = false;
  o.on_tick = [](const TickInfo&, SimDriver&) { return true; };  // no early end on success
  o.steps_after_success = 1 << 30;
  return o;
}

Json JitterFigures(const RobotClientStats& s, int64_t period_us) {
  std::vector<double> jitter, periods;
  for (size_t i = 1; i < s.tick_start_us.size(); ++i) {
    const double p = static_cast<double>(s.tick_start_us[i] - s.tick_start_us[i - 1]);
    periods.push_back(p);
    jitter.push_back(std::abs(p - period_us));
  }
  double mean = 0;
  for (double p : periods) mean += p;
  Json j;
  j["ticks"] = s.ticks;
  j["period_us_nominal"] = period_us;
  j["period_us_mean"] = periods.empty() ? 0.0 : mean / periods.size();
  j["jitter_us_p50"] = Quantile(jitter, 0.5);
  j["jitter_us_p99"] = Quantile(jitter, 0.99);
  j["jitter_us_max"] = Quantile(jitter, 1.0);
  j["fresh_share"] = s.ticks ? static_cast<double>(s.fresh_ticks) / s.ticks : 0.0;
  std::vector<double> work(s.tick_work_us.begin(), s.tick_work_us.end());
  j["tick_work_us_p50"] = Quantile(work, 0.5);
  j["tick_work_us_p99"] = Quantile(work, 0.99);
  j["tick_work_us_max"] = Quantile(work, 1.0);
  return j;
}

// One load robot: its own session, a request per refill interval until `stop`.
void LoadRobot(const std::string& target, int index, std::atomic<bool>* stop, std::atomic<int64_t>* chunks,
               std::atomic<int64_t>* errors) {
  ConnectionOptions co;
  co.target = target;
  co.rpc_timeout_ms = 10000;
  co.connect_timeout_ms = 5000;
  absl::StatusOr<std::unique_ptr<PolicyConnection>> c = PolicyConnection::Create(co);
  if (!c.ok()) return;
  request::SessionSpec spec{action::Embodiment::kPiper, {{"head_camera", 320, 240}, {"right_camera", 320, 240}},
                            "press the bell", "bench_load", absl::StrCat("load-", index), 25.0};
  if (!(*c)->StartSession(request::BuildStartSession(spec)).ok()) {
    ++*errors;
    return;
  }
  std::vector<uint8_t> rgb(320 * 240 * 3);
  const auto interval = std::chrono::milliseconds(8 * 40);
  uint64_t k = 0;
  while (!stop->load()) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>((i * 7 + k * 13 + index) & 0xff);
    mivla::v1::ObserveRequest obs;
    const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(t0.time_since_epoch()).count();
    obs.set_timestamp_us(now_us);
    request::AddRawImage("head_camera", 320, 240, rgb.data(), now_us, &obs);
    request::AddRawImage("right_camera", 320, 240, rgb.data(), now_us, &obs);
    request::NativeArm arm;
    arm.joints = {0.0, 0.5, -0.5, 0.0, 0.3, 0.0};
    arm.gripper = 0.05;
    request::SetArmStates({arm}, obs.mutable_proprioception());
    if ((*c)->ObserveAndAct(std::move(obs), 0).ok()) {
      ++*chunks;
    } else {
      ++*errors;
    }
    ++k;
    std::this_thread::sleep_until(t0 + interval);
  }
  (void)(*c)->EndSession();
}

absl::Status Main(int argc, char** argv) {
  bool json = false;
  double seconds = 10.0;
  int64_t sessions = 16, rt_priority = 50, busy_wait_us = 0;
  std::string server, server_bin = MIVLA_SERVER_BIN, out;
  FlagParser fs("mivla-bench-client [--json] [--seconds S] [--sessions N] [--server HOST:PORT] [--out FILE]");
  fs.AddBool("json", &json, "print the results as JSON");
  fs.AddDouble("seconds", &seconds, "length of each measurement");
  fs.AddInt("sessions", &sessions, "sessions the server carries in the second measurement (1 robot + load robots)");
  fs.AddString("server", &server, "an existing server HOST:PORT (default: start mivla-server --random-init --config tiny)");
  fs.AddString("server-bin", &server_bin, "the mivla-server binary to start");
  fs.AddString("out", &out, "also write the JSON to this file");
  fs.AddInt("rt-priority", &rt_priority, "SCHED_FIFO priority of the control loop (0: normal scheduling)");
  fs.AddInt("busy-wait-us", &busy_wait_us, "spin this long before each tick instead of sleeping (0: sleep only)");
  ASSIGN_OR_RETURN(const bool helped, fs.ParseFlagsOrPrintHelp(argc, argv));
  if (helped) return absl::OkStatus();
  if (!(seconds > 0) || sessions < 1) return absl::InvalidArgumentError("--seconds and --sessions must be positive");
  SetLogQuiet(true);
  std::unique_ptr<ServerProcess> child;
  if (server.empty()) {
    ASSIGN_OR_RETURN(child, ServerProcess::Start(server_bin, 0, "/tmp/mivla-bench-client-server.log"));
    server = child->target();
  }
  Json result;
  result["server"] = child ? "mivla-server --random-init --config tiny (child process)" : server;
  result["cpus"] = std::thread::hardware_concurrency();
  result["rt_priority"] = rt_priority;
  result["busy_wait_us"] = busy_wait_us;

  // 1. Jitter at 50 Hz, one session.
  ASSIGN_OR_RETURN(EpisodeResult a, RunSimEpisode(RobotOptions(server, 0.02, seconds, static_cast<int>(rt_priority), busy_wait_us)));
  result["jitter_50hz"] = JitterFigures(a.client, 20000);
  result["jitter_50hz"]["client"] = ClientStatsJson(a.client, a.safety);

  // 2. Fresh share with `sessions` sessions on the server.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> load_chunks{0}, load_errors{0};
  std::vector<std::thread> load;
  for (int i = 0; i + 1 < sessions; ++i) load.emplace_back(LoadRobot, server, i, &stop, &load_chunks, &load_errors);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the load reaches its steady state
  absl::StatusOr<EpisodeResult> b = RunSimEpisode(RobotOptions(server, 0.04, seconds, static_cast<int>(rt_priority), busy_wait_us));
  stop.store(true);
  for (std::thread& t : load) t.join();
  if (!b.ok()) return b.status();
  Json fresh = JitterFigures(b->client, 40000);
  fresh["sessions"] = sessions;
  fresh["load_chunks"] = load_chunks.load();
  fresh["load_errors"] = load_errors.load();
  fresh["client"] = ClientStatsJson(b->client, b->safety);
  result["fresh_at_sessions"] = fresh;

  const double p99 = result["jitter_50hz"]["jitter_us_p99"].get<double>();
  const double share = fresh["fresh_share"].get<double>();
  result["targets"] = {
      {"jitter_p99_us_le_2000", {{"value", p99}, {"met", p99 <= 2000}}},
      {"fresh_share_ge_0.95", {{"value", share}, {"met", share >= 0.95}, {"sessions", sessions}}}};
  const std::string text = result.dump(1);
  if (json) std::printf("%s\n", text.c_str());
  else std::fprintf(stderr, "jitter p99 %.0f us (50 Hz); fresh share %.3f at %lld sessions\n", p99, share, static_cast<long long>(sessions));
  if (!out.empty()) std::ofstream(out) << text << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace mivla::client

int main(int argc, char** argv) { return mivla::client::ExitCode("mivla-bench-client", mivla::client::Main(argc, argv)); }
