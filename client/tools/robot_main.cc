// File: robot_main.cc
// mivla-robot: the client beside one robot. Connects to mivla-server, starts a session for the robot's
// embodiment and cameras, and runs the control loop (chunk scheduling, retargeting, safety layer) with
// the simulation driver (one episode of --task, reported to the server) or the PiPER CAN driver (until
// SIGINT/SIGTERM or --max-steps). Prints a JSON summary on standard output.
//
//   build/bin/mivla-robot --embodiment piper --driver sim --server 127.0.0.1:50051 --task press_bell
//   build/bin/mivla-robot --help
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/eval/sim_episode.h"
#include "client/piper/piper_can_driver.h"
#include "client/robot/robot_config.h"
#include "client/tools/exit_code.h"
#include "client/tools/run_summary.h"
#include "core/metrics/metrics_http_server.h"
#include "core/util/flag_parser.h"
#include "core/util/log.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"
#include "sim/task.h"

namespace mivla::client {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_operator_stop{false};
extern "C" void OnSignal(int) { g_stop.store(true); }
// The operator stop input: SIGUSR1 engages it (the robot holds), SIGUSR2 releases it.
extern "C" void OnOperatorSignal(int sig) { g_operator_stop.store(sig == SIGUSR1); }

struct Flags {
  std::string embodiment, driver = "sim", server, task, config, mode = "easy", instruction, retarget,
      session_embodiment, token_file, root_cert, client_cert, client_key, tls_name, can_interface,
      robot_id = "mivla-robot";
  bool allow_no_cameras = false;
  int64_t seed = 0, metrics_port = -1, max_steps = 0, act_seed = 0;
  bool tls = false, fast = false, real_time = false;
  bool realtime_chunking = true;
};

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return WithPrefix(text.status(), "--token-file: ");
  std::string t(absl::StripAsciiWhitespace(*text));
  if (t.empty()) return absl::InvalidArgumentError(absl::StrCat("--token-file '", path, "': empty"));
  return t;
}

// A parse error with the flag it came from in front.
template <typename T>
absl::StatusOr<T> Flagged(const char* flag, absl::StatusOr<T> v) {
  if (v.ok()) return v;
  return WithPrefix(v.status(), absl::StrCat(flag, ": "));
}

// Printed after the flag list by --help.
constexpr char kHelpEpilogue[] =
    "\n"
    "Signals: SIGINT/SIGTERM end the run (the arm is stopped); SIGUSR1 engages the operator stop\n"
    "(the robot holds, decelerating within the acceleration limit, counted as an operator_stop hold)\n"
    "and SIGUSR2 releases it (the robot follows fresh chunks again), e.g. kill -USR1 <pid>.\n";

absl::Status Main(int argc, char** argv) {
  std::signal(SIGUSR1, OnOperatorSignal);  // first, so an early stop is not the default action (exit)
  std::signal(SIGUSR2, OnOperatorSignal);
  Flags f;
  FlagParser fs("mivla-robot --embodiment piper|arx5|locoman|aloha --driver sim|piper-can --server HOST:PORT --task T");
  fs.AddString("embodiment", &f.embodiment, "the robot: piper, arx5, locoman or aloha (required)");
  fs.AddString("driver", &f.driver, "sim (MuJoCo simulation) or piper-can (PiPER over SocketCAN)");
  fs.AddString("server", &f.server, "policy server HOST:PORT (required)");
  fs.AddString("task", &f.task, "sim task: press_bell, stack_blocks, move_bottle_pad, place_block_basket, handover_block, lift_pot");
  fs.AddString("config", &f.config, "configuration file (default: client/config/<embodiment>.json)");
  fs.AddString("mode", &f.mode, "sim: easy or hard");
  fs.AddInt("seed", &f.seed, "sim: episode seed (object poses, appearance)");
  fs.AddString("instruction", &f.instruction, "instruction (sim default: the task's seeded phrasing; required for piper-can)");
  fs.AddString("retarget", &f.retarget, "override the config: joints, ik, human or auto");
  fs.AddString("session-embodiment", &f.session_embodiment, "override the config: the embodiment the session speaks");
  fs.AddBool("fast", &f.fast, "sim: as fast as possible (lockstep with the server) instead of the config's clock");
  fs.AddBool("real-time", &f.real_time, "sim: real time (wall clock) regardless of the config");
  fs.AddInt("max-steps", &f.max_steps, "stop after this many control ticks (0: the task's limit; piper-can: until a signal)");
  fs.AddInt("metrics-port", &f.metrics_port, "Prometheus /metrics port (0: any free port, -1: off)");
  fs.AddBool("tls", &f.tls, "connect with TLS");
  fs.AddString("root-cert", &f.root_cert, "TLS: PEM CA of the server certificate");
  fs.AddString("client-cert", &f.client_cert, "mutual TLS: PEM client certificate");
  fs.AddString("client-key", &f.client_key, "mutual TLS: PEM client key");
  fs.AddString("tls-server-name", &f.tls_name, "TLS: server name to verify instead of the host");
  fs.AddString("token-file", &f.token_file, "file holding the bearer token");
  fs.AddString("can-interface", &f.can_interface, "piper-can: SocketCAN interface (default: the config's)");
  fs.AddBool("allow-no-cameras", &f.allow_no_cameras,
          "piper-can: run although the driver has no camera source (the policy sees no images)");
  fs.AddString("robot-id", &f.robot_id, "robot id for the server's logs and metrics");
  fs.AddInt("act-seed", &f.act_seed, "sampling seed for Act (0: server-chosen noise)");
  fs.AddBool("realtime-chunking", &f.realtime_chunking,
             "send committed steps when the server offers real-time chunking (--no-realtime-chunking: never; "
             "the config's scheduler.realtime_chunking can also switch it off)");
  ASSIGN_OR_RETURN(const bool helped, fs.ParseFlagsOrPrintHelp(argc, argv, kHelpEpilogue));
  if (helped) return absl::OkStatus();
  if (f.embodiment.empty()) return absl::InvalidArgumentError("--embodiment is required (piper, arx5, locoman, aloha)");
  if (f.server.empty()) return absl::InvalidArgumentError("--server HOST:PORT is required");
  if (f.server.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--server '", f.server, "': want HOST:PORT"));
  }
  ASSIGN_OR_RETURN(action::Embodiment emb, Flagged("--embodiment", action::ParseEmbodiment(f.embodiment)));
  if (!action::IsRobot(emb)) return absl::InvalidArgumentError("--embodiment: the human is not a robot");
  ASSIGN_OR_RETURN(RobotConfig cfg, LoadRobotConfig(f.config.empty() ? DefaultRobotConfigPath(emb) : f.config));
  if (cfg.embodiment != emb) {
    return absl::InvalidArgumentError(absl::StrCat("--config is for ", std::string(action::EmbodimentName(cfg.embodiment)),
                                                   ", not ", std::string(action::EmbodimentName(emb))));
  }
  if (!f.retarget.empty()) {
    ASSIGN_OR_RETURN(cfg.adapter.mode, Flagged("--retarget", ParseRetargetMode(f.retarget)));
    cfg.adapter.session_embodiment.reset();  // the mode's default unless --session-embodiment says
  }
  if (!f.session_embodiment.empty()) {
    ASSIGN_OR_RETURN(action::Embodiment s, Flagged("--session-embodiment", action::ParseEmbodiment(f.session_embodiment)));
    cfg.adapter.session_embodiment = s;
  }

  ConnectionOptions conn = cfg.connection;
  conn.target = f.server;
  conn.tls = f.tls || !f.root_cert.empty() || !f.client_cert.empty();
  conn.root_cert_file = f.root_cert;
  conn.client_cert_file = f.client_cert;
  conn.client_key_file = f.client_key;
  conn.server_name_override = f.tls_name;
  if (!f.token_file.empty()) {
    ASSIGN_OR_RETURN(conn.token, ReadToken(f.token_file));
  }

  metrics::Registry registry;
  ASSIGN_OR_RETURN(std::unique_ptr<ClientMetrics> cm, ClientMetrics::Create(&registry));
  std::unique_ptr<metrics::MetricsHttpServer> http;
  if (f.metrics_port >= 0) {
    ASSIGN_OR_RETURN(http, metrics::MetricsHttpServer::Create({"0.0.0.0", static_cast<int>(f.metrics_port), &registry}));
    RETURN_IF_ERROR(http->Start());
    std::fprintf(stderr, "{\"event\":\"metrics\",\"port\":%d}\n", http->port());
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  RobotClient::Options co;
  co.instruction = f.instruction;
  co.task = f.task;
  co.robot_id = f.robot_id;
  co.scheduler = cfg.scheduler;
  co.scheduler.realtime_chunking = cfg.scheduler.realtime_chunking && f.realtime_chunking;
  co.safety = cfg.safety;
  co.gripper = cfg.gripper;
  co.adapter = cfg.adapter;
  co.seed = static_cast<uint64_t>(f.act_seed);

  if (f.driver == "sim") {
    if (f.task.empty()) return absl::InvalidArgumentError("--task is required with --driver sim");
    if (sim::FindTask(f.task) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("--task: unknown task '", f.task, "'"));
    }
    if (f.fast && f.real_time) return absl::InvalidArgumentError("--fast and --real-time exclude each other");
    SimEpisodeOptions o;
    o.driver.task = f.task;
    o.driver.embodiment = emb;
    if (f.mode != "easy" && f.mode != "hard") return absl::InvalidArgumentError(absl::StrCat("--mode '", f.mode, "': want easy or hard"));
    o.driver.mode = f.mode == "hard" ? sim::Mode::kHard : sim::Mode::kEasy;
    o.driver.seed = static_cast<uint64_t>(f.seed);
    o.driver.control_period_s = cfg.sim_control_period_s;
    o.driver.camera_period_s = cfg.sim_camera_period_s;
    o.driver.real_time = f.real_time || (cfg.sim_real_time && !f.fast);
    o.client = co;
    o.connection = conn;
    o.metrics = cm.get();
    o.max_steps = f.max_steps;
    o.operator_stop = &g_operator_stop;
    o.on_tick = [](const TickInfo&, SimDriver&) { return !g_stop.load(); };
    ASSIGN_OR_RETURN(EpisodeResult r, RunSimEpisode(o));
    std::printf("%s\n", EpisodeJson(r).dump().c_str());
    return absl::OkStatus();
  }
  if (f.driver == "piper-can") {
    if (emb != action::Embodiment::kPiper) return absl::InvalidArgumentError("--driver piper-can drives a PiPER only");
    if (f.instruction.empty()) return absl::InvalidArgumentError("--instruction is required with --driver piper-can");
    PiperCanDriver::Options po;
    po.interface = f.can_interface.empty() ? cfg.can_interface : f.can_interface;
    po.control_period_s = cfg.can_control_period_s;
    po.disable_on_stop = cfg.can_disable_on_stop;
    ASSIGN_OR_RETURN(std::unique_ptr<PiperCanDriver> driver, PiperCanDriver::Create(po));
    if (driver->cameras().empty()) {
      if (!f.allow_no_cameras) {
        return absl::InvalidArgumentError(
            "--driver piper-can: the PiPER CAN driver has no camera source yet, so the policy would act "
            "without images; pass --allow-no-cameras to run anyway");
      }
      LogWarning("mivla-robot", "WARNING: --allow-no-cameras: the session starts with NO CAMERA; the policy "
                                "sees proprioception only and its actions are not what it was trained for");
    }
    ASSIGN_OR_RETURN(std::unique_ptr<PolicyConnection> pc, PolicyConnection::Create(conn));
    ASSIGN_OR_RETURN(std::unique_ptr<RobotClient> client, RobotClient::Create(driver.get(), std::move(pc), cm.get(), co));
    RETURN_IF_ERROR(client->StartSession());
    const int64_t limit = f.max_steps > 0 ? f.max_steps : INT64_MAX;
    client->SetOperatorStop(g_operator_stop.load());
    RobotClient* c = client.get();
    absl::Status run = client->Run(limit, [c](const TickInfo&) {
      c->SetOperatorStop(g_operator_stop.load());
      return !g_stop.load();
    });
    absl::Status fin = client->Finish(nullptr);
    RETURN_IF_ERROR(run);
    RETURN_IF_ERROR(fin);
    std::printf("%s\n", ClientStatsJson(client->stats(), client->safety().stats()).dump().c_str());
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("--driver '", f.driver, "': want sim or piper-can"));
}

}  // namespace
}  // namespace mivla::client

int main(int argc, char** argv) { return mivla::client::ExitCode("mivla-robot", mivla::client::Main(argc, argv)); }
