// File: rtc_bench.cc
// mivla-bench-rtc: real-time chunking (issue 14) on simulated robots against a live mivla-server child
// (--random-init tiny, or the newest checkpoint of --model-dir), with and without it.
//
// Each mode runs --episodes simulated PiPER episodes of --task the way mivla-eval drives them (the sim
// driver in lockstep, RobotClient, the robot configuration's scheduler and safety layer), with an
// emulated inference delay of --delay-ticks control ticks (a chunk is queued that many ticks after its
// observation while the robot executes what it has, as on the wall clock; RobotClient::Options::
// lockstep_delay_ticks). Episode i uses sim seed --seed + i and the same Act seeds in both modes.
//   off: the client never sends committed steps (chunks blend with the queue, the configuration's rule).
//   on:  the client sends its plan and splices the guided chunk after the delay.
// Per mode: the joint-velocity jump at every tick, |v_k - v_{k-1}| with v_k = (a_k - a_{k-1}) / period
// over the chunk's actions a before the safety layer (largest over the arm joints, rad/s): at chunk
// joins (the first tick of a new chunk) and elsewhere; task success; the server's mean decode time per
// Act (its /metrics: mivla_stage_latency_seconds{stage="decode"}) and the guided Acts
// (mivla_realtime_chunking_acts_total). The extra cost per guided Act is (mean on - mean off) / the
// guided share of the on mode's Acts. Target: the largest join jump at least 3x smaller with RTC.
// Fidelity rows (--fidelity-seeds observations): through the server, a plain chunk's steps from 12 on as
// the committed plan with max(delay, 1) frozen: how far the guided and a plain chunk (same Act seed) lie
// from the plan on those steps (from the first wire step at or after the model's first step: earlier
// ones repeat it), and the position step across the join, in joint radians.
//
// --real-time runs the robots on the wall clock instead: the delay is the real round trip (the client's
// estimate from its measured round trips) and the figures vary with the machine's load.
//
//   build/bin/mivla-bench-rtc --json [--model-dir DIR] [--episodes 5] [--task press_bell] [--delay-ticks 5]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/eval/evaluator.h"
#include "client/eval/sim_episode.h"
#include "client/robot/embodiment_adapter.h"
#include "client/robot/robot_config.h"
#include "client/tools/exit_code.h"
#include "client/tools/server_child.h"
#include "core/metrics/text_format.h"
#include "core/util/flag_parser.h"
#include "core/util/log.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"
#include "proto/request_builder.h"

namespace mivla::client {
namespace {

using Json = nlohmann::json;

struct ModeResult {
  std::vector<double> join_jumps;   // rad/s, one per chunk join
  double max_elsewhere = 0;         // the largest jump at the other ticks
  std::vector<double> join_steps;   // rad: max |a_k - a_{k-1}| over the joints, at each join
  double max_step_elsewhere = 0;
  int episodes = 0, successes = 0, errors = 0;
  int64_t ticks = 0, holds = 0, chunks = 0, guided_chunks = 0;
  double decode_s_sum = 0, decode_count = 0, guided_acts = 0;  // server metrics deltas
};

// The arm joints of a command, arm after arm.
std::vector<double> ArmJoints(const RobotCommand& c) {
  std::vector<double> q;
  for (const ArmTarget& arm : c.arms) {
    for (int j = 0; j < arm.joints.size(); ++j) q.push_back(arm.joints[j]);
  }
  return q;
}

// Per-tick tracker of the chunk actions' joint velocities.
class JumpTracker {
 public:
  JumpTracker(double period_s, ModeResult* out) : period_s_(period_s), out_(out) {}
  void Tick(const TickInfo& t) {
    if (t.action == nullptr || t.chunk_id == 0) {  // a hold: start over
      have_ = 0;
      return;
    }
    const std::vector<double> q = ArmJoints(*t.action);
    if (have_ >= 1 && q.size() == prev_q_.size()) {
      std::vector<double> v(q.size());
      double step = 0;
      for (size_t j = 0; j < q.size(); ++j) {
        v[j] = (q[j] - prev_q_[j]) / period_s_;
        step = std::max(step, std::abs(q[j] - prev_q_[j]));
      }
      if (t.chunk_id != prev_chunk_) {
        out_->join_steps.push_back(step);
      } else {
        out_->max_step_elsewhere = std::max(out_->max_step_elsewhere, step);
      }
      if (have_ >= 2 && v.size() == prev_v_.size()) {
        double jump = 0;
        for (size_t j = 0; j < v.size(); ++j) jump = std::max(jump, std::abs(v[j] - prev_v_[j]));
        if (t.chunk_id != prev_chunk_) {
          out_->join_jumps.push_back(jump);
        } else {
          out_->max_elsewhere = std::max(out_->max_elsewhere, jump);
        }
      }
      prev_v_ = v;
      have_ = std::min(have_ + 1, 2);
    } else {
      have_ = 1;
    }
    prev_q_ = q;
    prev_chunk_ = t.chunk_id;
  }

 private:
  const double period_s_;
  ModeResult* out_;
  int have_ = 0;  // consecutive ticks with an action (capped at 2)
  std::vector<double> prev_q_, prev_v_;
  uint64_t prev_chunk_ = 0;
};

struct ServerCounters {
  double decode_sum = 0, decode_count = 0, guided = 0;
};
ServerCounters Scrape(const ServerProcess& server) {
  const std::string s = server.ScrapeMetrics();
  // A counter not exposed yet has counted nothing.
  return {metrics::SampleValue(s, "mivla_stage_latency_seconds_sum{stage=\"decode\"}").value_or(0),
          metrics::SampleValue(s, "mivla_stage_latency_seconds_count{stage=\"decode\"}").value_or(0),
          metrics::SampleValue(s, "mivla_realtime_chunking_acts_total").value_or(0)};
}

Json Summary(const ModeResult& m) {
  std::vector<double> j = m.join_jumps;
  std::sort(j.begin(), j.end());
  const double max_join = j.empty() ? 0 : j.back();
  double mean = 0;
  for (double x : j) mean += x / static_cast<double>(j.size());
  const double p95 = j.empty() ? 0 : j[static_cast<size_t>(std::floor(0.95 * (j.size() - 1)))];
  const double decode_ms = m.decode_count > 0 ? 1e3 * m.decode_s_sum / m.decode_count : 0;
  std::vector<double> st = m.join_steps;
  std::sort(st.begin(), st.end());
  return Json{{"episodes", m.episodes},
              {"errors", m.errors},
              {"successes", m.successes},
              {"success_rate", m.episodes > 0 ? static_cast<double>(m.successes) / m.episodes : 0.0},
              {"joins", j.size()},
              {"max_join_jump_rad_s", max_join},
              {"mean_join_jump_rad_s", mean},
              {"p95_join_jump_rad_s", p95},
              {"max_jump_elsewhere_rad_s", m.max_elsewhere},
              {"max_join_step_rad", st.empty() ? 0 : st.back()},
              {"p95_join_step_rad", st.empty() ? 0 : st[static_cast<size_t>(std::floor(0.95 * (st.size() - 1)))]},
              {"max_step_elsewhere_rad", m.max_step_elsewhere},
              {"ticks", m.ticks},
              {"hold_ticks", m.holds},
              {"chunks", m.chunks},
              {"guided_chunks", m.guided_chunks},
              {"acts", m.decode_count},
              {"guided_acts", m.guided_acts},
              {"mean_decode_ms_per_act", decode_ms}};
}

// Inpainting fidelity through the server, on one observation per seed: chunk A (plain), then with A's
// steps from `shift` on as the committed plan and `delay` of them frozen, chunk B (guided) and chunk C
// (plain, the same Act seed as B). Over PiPER's six joint targets (rad): how far B's and C's first
// `delay` steps lie from the plan, and the position step across the join (the plan's step delay - 1,
// which the robot executes, to the new chunk's step delay) next to the plan's own largest step.
absl::StatusOr<Json> Fidelity(const std::string& target, const std::string& task, uint64_t seed, int delay,
                              int shift) {
  SimDriverOptions d;
  d.task = task;
  d.seed = seed;
  ASSIGN_OR_RETURN(std::unique_ptr<SimDriver> sim, SimDriver::Create(d));
  RETURN_IF_ERROR(sim->Start());
  ASSIGN_OR_RETURN(RobotReading reading, sim->Read(/*with_images=*/true));
  ASSIGN_OR_RETURN(std::unique_ptr<EmbodimentAdapter> adapter, EmbodimentAdapter::Create(sim->embodiment(), {}));
  adapter->Reset(reading);
  ConnectionOptions c;
  c.target = target;
  c.rpc_timeout_ms = 60000;
  ASSIGN_OR_RETURN(std::unique_ptr<PolicyConnection> conn, PolicyConnection::Create(c));
  request::SessionSpec spec;
  spec.embodiment = action::Embodiment::kPiper;
  for (const CameraLayout& cam : sim->cameras()) spec.cameras.push_back({cam.name, cam.width, cam.height});
  spec.instruction = sim->instruction();
  spec.task = task;
  spec.robot_id = "mivla-bench-rtc-fidelity";
  spec.control_rate_hz = 1.0 / sim->control_period_s();
  RETURN_IF_ERROR(conn->StartSession(request::BuildStartSession(spec)).status());
  mivla::v1::ObserveRequest obs;
  obs.set_timestamp_us(reading.time_us);
  for (const CameraFrame& f : reading.images) {
    request::AddRawImage(f.camera, f.width, f.height, f.rgb.data(), f.capture_time_us, &obs);
  }
  RETURN_IF_ERROR(adapter->FillProprioception(reading, obs.mutable_proprioception()));
  ASSIGN_OR_RETURN(mivla::v1::GetPolicyInfoResponse info, conn->GetPolicyInfo());
  ASSIGN_OR_RETURN(ChunkReply a, conn->ObserveAndAct(obs, 11));
  // Wire steps before the model's first step (at one model period) repeat it (chunk_builder.h): compare
  // from the first one at or after it.
  const double ratio = a.act.chunk().control_period_s() * info.default_control_rate_hz();  // control / model period
  const int first = std::max(0, static_cast<int>(std::ceil(1.0 / ratio - 1.0 - 1e-9)));
  const auto& as = a.act.chunk().steps();
  if (as.size() < shift + delay + 2) return absl::FailedPreconditionError("fidelity: chunk too short");
  mivla::v1::ActRequest guided;
  guided.set_inference_delay_steps(static_cast<uint32_t>(delay));
  for (int k = shift; k < as.size(); ++k) *guided.add_committed_steps()->mutable_unified() = as[k].unified();
  ASSIGN_OR_RETURN(ChunkReply b, conn->ObserveAndAct(obs, 12, guided));
  ASSIGN_OR_RETURN(ChunkReply p, conn->ObserveAndAct(obs, 12));
  conn->EndSession().IgnoreError();
  const int j0 = action::kJointsRight.begin + action::kArmJoints;
  auto gap = [&](const mivla::v1::ActionStep& x, const mivla::v1::ActionStep& y) {
    double m = 0;
    for (int j = 0; j < 6; ++j) m = std::max(m, static_cast<double>(std::abs(x.unified(j0 + j) - y.unified(j0 + j))));
    return m;
  };
  double err_b = 0, err_p = 0, plan_step = 0;
  for (int k = first; k < delay; ++k) {
    err_b = std::max(err_b, gap(b.act.chunk().steps(k), as[shift + k]));
    err_p = std::max(err_p, gap(p.act.chunk().steps(k), as[shift + k]));
  }
  for (int k = shift; k + 1 < as.size(); ++k) plan_step = std::max(plan_step, gap(as[k + 1], as[k]));
  // The largest joint-velocity jump inside a chunk (rad/s), from the first wire step at or after the
  // model's first step: how rough the chunk itself is.
  const double period = a.act.chunk().control_period_s();
  auto roughness = [&](const mivla::v1::ActionChunk& c) {
    double m = 0;
    for (int k = first + 2; k < c.steps_size(); ++k) {
      for (int j = 0; j < 6; ++j) {
        const double q0 = c.steps(k - 2).unified(j0 + j), q1 = c.steps(k - 1).unified(j0 + j),
                     q2 = c.steps(k).unified(j0 + j);
        m = std::max(m, std::abs((q2 - q1) - (q1 - q0)) / period);
      }
    }
    return m;
  };
  return Json{{"seed", seed},
              {"compared_steps", absl::StrCat(first, "..", delay - 1)},
              {"frozen_error_guided_rad", err_b},
              {"frozen_error_plain_rad", err_p},
              {"join_step_guided_rad", gap(b.act.chunk().steps(delay), as[shift + delay - 1])},
              {"join_step_plain_rad", gap(p.act.chunk().steps(delay), as[shift + delay - 1])},
              {"plan_largest_step_rad", plan_step},
              {"largest_jump_inside_guided_rad_s", roughness(b.act.chunk())},
              {"largest_jump_inside_plain_rad_s", roughness(p.act.chunk())},
              {"guided_decode_ms", b.act.timing().decode_us() / 1e3},
              {"plain_decode_ms", p.act.timing().decode_us() / 1e3}};
}

struct RtcArgs {
  std::string model_dir, task = "press_bell", server_bin = MIVLA_SERVER_BIN, out, server_args, trace;
  int64_t episodes = 5, delay_ticks = 5, seed = 100, act_seed = 7, max_steps = 0, fidelity_seeds = 5;
  bool json = false, real_time = false;
  bool helped = false;  // --help was printed: nothing to run
};

absl::StatusOr<RtcArgs> ParseRtcArgs(int argc, char** argv) {
  RtcArgs a;
  FlagParser fs("mivla-bench-rtc [--json] [--model-dir DIR] [--episodes N] [--task T] [--delay-ticks D] [--out FILE]");
  fs.AddBool("json", &a.json, "print the results as JSON");
  fs.AddString("model-dir", &a.model_dir,
               "serve the newest checkpoint in this folder (mivla-server --model-dir; default: --random-init tiny). "
               "Give a copy: the server may write its state next to the checkpoints");
  fs.AddString("task", &a.task, "PiPER sim task");
  fs.AddInt("episodes", &a.episodes, "episodes per mode (with and without real-time chunking)");
  fs.AddInt("delay-ticks", &a.delay_ticks, "emulated inference delay in control ticks (25 Hz: 40 ms each)");
  fs.AddBool("real-time", &a.real_time,
             "run the robots on the wall clock instead (the real round trip is the delay; --delay-ticks unused)");
  fs.AddInt("seed", &a.seed, "episode i uses sim seed S + i");
  fs.AddInt("act-seed", &a.act_seed, "Act sampling seed (the same in both modes)");
  fs.AddInt("max-steps", &a.max_steps, "end each episode after this many control ticks (0: the task's limit)");
  fs.AddInt("fidelity-seeds", &a.fidelity_seeds,
            "observations (sim seeds S..) for the inpainting fidelity rows: plan from a plain chunk's step 12 on");
  fs.AddString("server-bin", &a.server_bin, "the mivla-server binary to start");
  fs.AddString("server-args", &a.server_args,
               "more mivla-server flags, separated by spaces (e.g. \"--rtc-max-guidance 10\")");
  fs.AddString("out", &a.out, "also write the JSON to this file");
  fs.AddString("trace", &a.trace,
               "write every tick (mode, episode, tick, chunk id, the six arm joints of the chunk's action) as CSV");
  ASSIGN_OR_RETURN(a.helped, fs.ParseFlagsOrPrintHelp(argc, argv));
  if (a.helped) return a;
  if (a.episodes < 1 || a.episodes > 1000) return absl::InvalidArgumentError("--episodes: want 1..1000");
  if (a.delay_ticks < 0 || a.delay_ticks > 40) return absl::InvalidArgumentError("--delay-ticks: want 0..40");
  if (!a.model_dir.empty() && !std::filesystem::is_directory(a.model_dir)) {
    return absl::NotFoundError(absl::StrCat("--model-dir '", a.model_dir, "': not a folder"));
  }
  return a;
}

// The mivla-server child: --random-init tiny, or serving --model-dir's newest checkpoint.
absl::StatusOr<std::unique_ptr<ServerProcess>> StartServer(const RtcArgs& a) {
  const std::string log = "/tmp/mivla-bench-rtc-server.log";
  std::vector<std::string> extra;
  for (absl::string_view s : absl::StrSplit(a.server_args, ' ', absl::SkipEmpty())) extra.emplace_back(s);
  if (a.model_dir.empty()) return ServerProcess::Start(a.server_bin, 0, log, extra);
  return ServerProcess::StartServing(a.server_bin, {"--model-dir", a.model_dir}, 0, log, extra, 300);
}

// One mode's episodes (real-time chunking on or off) into *m, every tick to `trace` when it is open.
void RunMode(const RtcArgs& a, const SimEpisodeOptions& base, const ServerProcess& server, bool rtc,
             std::ofstream& trace, ModeResult* m) {
  const ServerCounters before = Scrape(server);
  for (int64_t i = 0; i < a.episodes; ++i) {
    SimEpisodeOptions o = base;
    o.driver.seed = static_cast<uint64_t>(a.seed + i);
    o.client.scheduler.realtime_chunking = rtc;
    JumpTracker tracker(base.driver.control_period_s, m);
    o.on_tick = [&](const TickInfo& t, SimDriver&) {
      tracker.Tick(t);
      if (trace.is_open()) {
        trace << (rtc ? "on" : "off") << ',' << i << ',' << t.tick << ',' << t.chunk_id;
        const std::vector<double> q = t.action != nullptr ? ArmJoints(*t.action) : std::vector<double>{};
        for (size_t j = 0; j < 6; ++j) {
          trace << ',';
          if (j < q.size()) trace << q[j];
        }
        trace << '\n';
      }
      return true;
    };
    absl::StatusOr<EpisodeResult> r = RunSimEpisode(o);
    if (!r.ok()) {
      ++m->errors;
      std::fprintf(stderr, "rtc %s episode %lld: %s\n", rtc ? "on" : "off", static_cast<long long>(i),
                   r.status().ToString().c_str());
      continue;
    }
    ++m->episodes;
    m->successes += r->success ? 1 : 0;
    m->ticks += r->client.ticks;
    m->holds += r->client.ticks - r->client.fresh_ticks;
    m->chunks += r->client.chunks;
    m->guided_chunks += r->client.guided_chunks;
    std::fprintf(stderr, "rtc %s episode %lld: %s, %d steps, %zu joins so far\n", rtc ? "on" : "off",
                 static_cast<long long>(i), r->success ? "success" : "failure", r->steps, m->join_jumps.size());
  }
  const ServerCounters after = Scrape(server);
  m->decode_s_sum = after.decode_sum - before.decode_sum;
  m->decode_count = after.decode_count - before.decode_count;
  m->guided_acts = after.guided - before.guided;
}

// The benchmark's JSON from both modes and the fidelity rows, the target evaluated.
Json ResultJson(const RtcArgs& a, double period_s, const ModeResult (&modes)[2], const Json& fidelity) {
  const Json off = Summary(modes[0]), on = Summary(modes[1]);
  const double max_off = off["max_join_jump_rad_s"], max_on = on["max_join_jump_rad_s"];
  const double ratio = max_on > 0 ? max_off / max_on : 0;
  const double guided_share = modes[1].decode_count > 0 ? modes[1].guided_acts / modes[1].decode_count : 0;
  const double extra_ms = guided_share > 0 ? (on["mean_decode_ms_per_act"].get<double>() -
                                               off["mean_decode_ms_per_act"].get<double>()) / guided_share
                                           : 0;
  return {{"benchmark", "mivla-bench-rtc"},
          {"model", a.model_dir.empty() ? "random-init tiny" : a.model_dir},
          {"server_args", a.server_args},
          {"task", a.task},
          {"embodiment", "PIPER"},
          {"control_period_s", period_s},
          {"clock", a.real_time ? "wall (real round trips)" : "lockstep (emulated delay)"},
          {"delay_ticks", a.real_time ? 0 : a.delay_ticks},
          {"episodes_per_mode", a.episodes},
          {"without_rtc", off},
          {"with_rtc", on},
          {"extra_decode_ms_per_guided_act", extra_ms},
          {"fidelity", fidelity},
          {"targets",
           {{"join_jump_3x_smaller", {{"ratio_off_over_on", ratio}, {"want_at_least", 3.0}, {"pass", ratio >= 3.0}}}}}};
}

absl::Status Main(int argc, char** argv) {
  ASSIGN_OR_RETURN(const RtcArgs a, ParseRtcArgs(argc, argv));
  if (a.helped) return absl::OkStatus();
  SetLogQuiet(true);
  ASSIGN_OR_RETURN(std::unique_ptr<ServerProcess> server, StartServer(a));
  ASSIGN_OR_RETURN(RobotConfig cfg, LoadRobotConfig(DefaultRobotConfigPath(action::Embodiment::kPiper)));
  SimEpisodeOptions base = EpisodeFromConfig(cfg, server->target(), a.real_time);
  base.driver.task = a.task;
  base.max_steps = a.max_steps;
  base.client.seed = static_cast<uint64_t>(a.act_seed);
  base.client.lockstep_delay_ticks = static_cast<int>(a.delay_ticks);
  base.client.robot_id = "mivla-bench-rtc";
  std::ofstream trace;
  if (!a.trace.empty()) {
    trace.open(a.trace);
    if (!trace) return absl::InvalidArgumentError(absl::StrCat("--trace '", a.trace, "': cannot write"));
    trace << "mode,episode,tick,chunk_id,q0,q1,q2,q3,q4,q5\n";
  }
  ModeResult modes[2];  // 0: off, 1: on
  for (int rtc = 0; rtc < 2; ++rtc) RunMode(a, base, *server, rtc == 1, trace, &modes[rtc]);
  Json fidelity = Json::array();
  for (int64_t i = 0; i < a.fidelity_seeds; ++i) {
    ASSIGN_OR_RETURN(Json f, Fidelity(server->target(), a.task, static_cast<uint64_t>(a.seed + i),
                                      static_cast<int>(std::max<int64_t>(a.delay_ticks, 1)), 12));
    fidelity.push_back(f);
  }
  const Json result = ResultJson(a, base.driver.control_period_s, modes, fidelity);
  const std::string text = result.dump(2);
  if (a.json) std::printf("%s\n", text.c_str());
  if (!a.out.empty()) {
    std::ofstream f(a.out);
    f << text << "\n";
    if (!f) return absl::InternalError(absl::StrCat("--out '", a.out, "': cannot write"));
  }
  const Json& off = result["without_rtc"];
  const Json& on = result["with_rtc"];
  std::fprintf(stderr,
               "largest velocity jump at chunk joins: %.3f rad/s without RTC, %.3f with (%.2fx; target >= 3x); "
               "success %d/%d vs %d/%d; extra decode per guided Act %.1f ms\n",
               off["max_join_jump_rad_s"].get<double>(), on["max_join_jump_rad_s"].get<double>(),
               result["targets"]["join_jump_3x_smaller"]["ratio_off_over_on"].get<double>(), modes[0].successes,
               modes[0].episodes, modes[1].successes, modes[1].episodes,
               result["extra_decode_ms_per_guided_act"].get<double>());
  return absl::OkStatus();
}

}  // namespace
}  // namespace mivla::client

int main(int argc, char** argv) { return mivla::client::ExitCode("mivla-bench-rtc", mivla::client::Main(argc, argv)); }
