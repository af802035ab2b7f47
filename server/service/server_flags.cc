#include "server/service/server_flags.h"

#include <cmath>
#include <functional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/util/read_file.h"
#include "nlohmann/json.hpp"

namespace mivla::server {
namespace {

using Setter = std::function<absl::Status(const std::string& value, ServerOptions* o)>;

struct Flag {
  std::string name;
  std::string help;
  std::function<std::string(const ServerOptions&)> show;
  Setter set;
  bool boolean = false;
};

absl::Status BadValue(const std::string& name, const std::string& value, const char* what) {
  return absl::InvalidArgumentError(absl::StrCat("--", name, ": '", value, "' is not ", what));
}

Flag Num(std::string name, std::string help, std::function<int64_t(const ServerOptions&)> get,
         std::function<void(ServerOptions*, int64_t)> put) {
  return {name, std::move(help), [get](const ServerOptions& o) { return absl::StrCat(get(o)); },
          [name, put](const std::string& v, ServerOptions* o) {
            int64_t x;
            if (!absl::SimpleAtoi(v, &x)) return BadValue(name, v, "an integer");
            put(o, x);
            return absl::OkStatus();
          }};
}

// NUM("flag", "help", field.path): an integer flag bound to ServerOptions::field.path.
#define NUM(name, help, field)                                             \
  Num(name, help, [](const ServerOptions& o) -> int64_t { return o.field; }, \
      [](ServerOptions* o, int64_t v) { o->field = static_cast<decltype(o->field)>(v); })

Flag Str(std::string name, std::string help, std::function<std::string&(ServerOptions&)> ref) {
  return {name, std::move(help), [ref](const ServerOptions& o) { return "\"" + ref(const_cast<ServerOptions&>(o)) + "\""; },
          [ref](const std::string& v, ServerOptions* o) {
            ref(*o) = v;
            return absl::OkStatus();
          }};
}

Flag Bool(std::string name, std::string help, bool ServerOptions::*field) {
  Flag f{name, std::move(help), [field](const ServerOptions& o) { return std::string(o.*field ? "true" : "false"); },
         [name, field](const std::string& v, ServerOptions* o) {
           if (v == "true" || v == "1" || v.empty()) o->*field = true;
           else if (v == "false" || v == "0") o->*field = false;
           else return BadValue(name, v, "true or false");
           return absl::OkStatus();
         }};
  f.boolean = true;
  return f;
}

// A floating-point flag bound to ServerOptions::*field (or to (ServerOptions::*outer).*field).
Flag Real(std::string name, std::string help, double ServerOptions::*field) {
  return {name, std::move(help), [field](const ServerOptions& o) { return absl::StrCat(o.*field); },
          [name, field](const std::string& v, ServerOptions* o) {
            double x;
            if (!absl::SimpleAtod(v, &x) || !std::isfinite(x) || x < 0) return BadValue(name, v, "a non-negative number");
            o->*field = x;
            return absl::OkStatus();
          }};
}

// A floating-point flag bound to (ServerOptions::*outer).*field (input limits, runtime flags).
template <typename Outer>
Flag Real(std::string name, std::string help, Outer ServerOptions::*outer, double Outer::*field) {
  return {name, std::move(help), [outer, field](const ServerOptions& o) { return absl::StrCat((o.*outer).*field); },
          [name, outer, field](const std::string& v, ServerOptions* o) {
            double x;
            if (!absl::SimpleAtod(v, &x) || !std::isfinite(x) || x < 0) return BadValue(name, v, "a non-negative number");
            (o->*outer).*field = x;
            return absl::OkStatus();
          }};
}

// A boolean flag bound to (ServerOptions::*outer).*field.
template <typename Outer>
Flag Bool(std::string name, std::string help, Outer ServerOptions::*outer, bool Outer::*field) {
  Flag f{name, std::move(help),
         [outer, field](const ServerOptions& o) { return std::string((o.*outer).*field ? "true" : "false"); },
         [name, outer, field](const std::string& v, ServerOptions* o) {
           if (v == "true" || v == "1" || v.empty())
             (o->*outer).*field = true;
           else if (v == "false" || v == "0")
             (o->*outer).*field = false;
           else
             return BadValue(name, v, "true or false");
           return absl::OkStatus();
         }};
  f.boolean = true;
  return f;
}

Flag Duration(std::string name, std::string help, absl::Duration ServerOptions::*field, absl::Duration unit) {
  return {name, std::move(help), [field, unit](const ServerOptions& o) { return absl::StrCat(absl::FDivDuration(o.*field, unit)); },
          [name, field, unit](const std::string& v, ServerOptions* o) {
            double x;
            if (!absl::SimpleAtod(v, &x) || !(x >= 0)) return BadValue(name, v, "a non-negative number");
            o->*field = x * unit;
            return absl::OkStatus();
          }};
}

// A number of ServerOptions::rollout; its range is checked by RolloutPolicy::Create (naming the flag).
Flag RolloutReal(std::string name, std::string help, double RolloutOptions::*field) {
  return {name, std::move(help), [field](const ServerOptions& o) { return absl::StrCat(o.rollout.*field); },
          [name, field](const std::string& v, ServerOptions* o) {
            double x;
            if (!absl::SimpleAtod(v, &x) || !std::isfinite(x)) return BadValue(name, v, "a number");
            o->rollout.*field = x;
            return absl::OkStatus();
          }};
}

std::vector<Flag> Flags() {
  std::vector<Flag> f;
  f.push_back(Str("host", "Address the gRPC server binds.", [](ServerOptions& o) -> std::string& { return o.host; }));
  f.push_back(NUM("port", "gRPC port (0: pick a free one, logged).", port));
  f.push_back(NUM("metrics-port", "Prometheus /metrics HTTP port (-1: off, 0: pick a free one).", metrics_port));
  f.push_back(Str("metrics-address", "Address the metrics endpoint binds, e.g. 127.0.0.1 for loopback only.",
                  [](ServerOptions& o) -> std::string& { return o.metrics_host; }));
  f.push_back(Duration("metrics-deadline-ms", "Each metrics connection is cut off this long after it was accepted (slow clients).",
                       &ServerOptions::metrics_deadline, absl::Milliseconds(1)));
  f.push_back(NUM("metrics-max-connections", "Open metrics connections at most; a new one evicts the oldest.",
                  metrics_max_connections));
  f.push_back(Str("metrics-host", "Alias of --metrics-address.", [](ServerOptions& o) -> std::string& { return o.metrics_host; }));
  f.push_back(NUM("max-message-bytes", "Largest gRPC message accepted or sent.", max_message_bytes));
  f.push_back(NUM("max-control-request-bytes",
                  "Largest request of the RPCs without images (all but Observe and StreamAct); larger ones are "
                  "refused INVALID_ARGUMENT before they are parsed.",
                  max_control_request_bytes));
  f.push_back(Str("model-dir", "Directory of *.mivla checkpoints; the newest loadable one serves and new ones are hot-reloaded. "
                  "Not given (and no --random-init): $MIVLA_MODEL_DIR, else the repository's models/ with the bundled checkpoint.",
                  [](ServerOptions& o) -> std::string& { return o.model_dir; }));
  f.push_back(Duration("poll-interval-ms", "How often the model directory is scanned (0: only on SIGHUP).",
                       &ServerOptions::poll_interval, absl::Milliseconds(1)));
  f.push_back(Duration("settle-ms", "A checkpoint file younger than this is left for the next scan (still being copied).",
                       &ServerOptions::settle_time, absl::Milliseconds(1)));
  // Success-gated rollout (issue 14; server/README.md, "Rollout").
  f.push_back(RolloutReal("canary-share",
                          "Canary mode when > 0: a newer checkpoint is tried BESIDE the serving one, given to this share "
                          "(0..1] of new sessions (each keeps its version), and promoted or rolled back (its file "
                          "marked rejected) by episode success; 0: the newest checkpoint serves everyone.",
                          &RolloutOptions::canary_share));
  f.push_back(NUM("canary-min-episodes", "Reported episodes of the canary and of the incumbent before the test decides.",
                  rollout.min_episodes));
  f.push_back(RolloutReal("canary-alpha",
                          "Level of the one-sided Fisher exact test: the canary is rolled back when its success rate is "
                          "below the incumbent's with p < this.",
                          &RolloutOptions::alpha));
  f.push_back(NUM("canary-seed", "Seed of the canary draws of new sessions (0: from the OS).", rollout.seed));
  f.push_back(Str("rollout-state-dir",
                  "Where the rollout state file (.mivla-rollout.json: rejected checkpoints, the promoted one) lives; "
                  "empty: the model directory (set this when it is read-only).",
                  [](ServerOptions& o) -> std::string& { return o.rollout.state_dir; }));
  f.push_back(Str("pin-version", "Serve only this version (or checkpoint file name): no reloads, no canaries.",
                  [](ServerOptions& o) -> std::string& { return o.rollout.pin_version; }));
  f.push_back(Str("pin-file",
                  "File whose first line pins a version (or file name) like --pin-version, re-read at every scan "
                  "(SIGHUP scans now); empty or absent: not pinned.",
                  [](ServerOptions& o) -> std::string& { return o.rollout.pin_file; }));
  f.push_back(Bool("random-init", "Serve a randomly initialised model (tests and benchmarks only; logged as such).", &ServerOptions::random_init));
  f.push_back(Str("config", "Model configuration for --random-init: tiny or base.", [](ServerOptions& o) -> std::string& { return o.config; }));
  f.push_back(NUM("seed", "Seed of the --random-init weights.", seed));
  f.push_back(
      Str("device", "cpu, cuda, cuda:N or auto.", [](ServerOptions& o) -> std::string& { return o.runtime.device; }));
  f.push_back(Str("precision", "fp32, or bf16 (CUDA only).",
                  [](ServerOptions& o) -> std::string& { return o.runtime.precision; }));
  f.push_back(Str("tokenizer", "SentencePiece model used when a checkpoint carries none.",
                  [](ServerOptions& o) -> std::string& { return o.runtime.tokenizer_file; }));
  const std::string enc = "encode stage (images + instruction -> condition tokens)";
  const std::string dec = "decode stage (action sampler)";
  f.push_back(NUM("encode-max-batch-size", "Largest batch of the " + enc + ".", encode.max_batch_size));
  f.push_back(NUM("encode-max-queue-delay-us", "Longest wait for a batch to fill in the " + enc + ".", encode.max_queue_delay_us));
  f.push_back(NUM("encode-max-queue-depth", "Requests waiting in the " + enc + " beyond which RESOURCE_EXHAUSTED is answered.", encode.max_queue_depth));
  f.push_back(NUM("encode-workers", "Worker threads of the " + enc + ".", encode.workers));
  f.push_back(NUM("decode-max-batch-size", "Largest batch of the " + dec + ".", decode.max_batch_size));
  f.push_back(NUM("decode-max-queue-delay-us", "Longest wait for a batch to fill in the " + dec + ".", decode.max_queue_delay_us));
  f.push_back(NUM("decode-max-queue-depth", "Requests waiting in the " + dec + " beyond which RESOURCE_EXHAUSTED is answered.", decode.max_queue_depth));
  f.push_back(NUM("decode-workers", "Worker threads of the " + dec + ".", decode.workers));
  f.push_back(Bool("drop-on-chunk-end",
                   "Answer DEADLINE_EXCEEDED also to Acts that waited past the end of the session's last chunk when "
                   "the request set no deadline_us (only for robots whose timestamps follow real time); off: that "
                   "run-out only orders the decode queue.",
                   &ServerOptions::drop_on_chunk_end));
  f.push_back(Bool("realtime-chunking",
                   "Real-time chunking: sample Acts that carry committed_steps so their chunk starts with the steps the "
                   "robot executes meanwhile (guided inpainting; GetPolicyInfo.realtime_chunking). false: those fields "
                   "are validated, then ignored.",
                   &ServerOptions::realtime_chunking));
  f.push_back(Real("rtc-max-guidance", "Real-time chunking: cap (beta) of the guidance weight in the guided sampler.",
                   &ServerOptions::runtime, &RuntimeFlags::rtc_max_guidance));
  f.push_back(Bool("rtc-soft-replacement",
                   "Real-time chunking: after each guided Euler step, also pull the committed steps' values towards "
                   "their noised targets by the soft mask (frozen steps end exactly on the robot's plan). false: the "
                   "guidance alone (it barely moves a nearly deterministic model).",
                   &ServerOptions::runtime, &RuntimeFlags::rtc_soft_replacement));
  f.push_back(
      NUM("blas-threads",
          "Threads of one matrix product on the CPU (OpenBLAS). -1: OPENBLAS_NUM_THREADS when set, else one per "
          "core but one, so that request handling does not stall the products (server/README.md, \"CPU "
          "threads\"); 0: the library's default (one per core); N: N.",
          runtime.blas_threads));
  f.push_back(Bool("cuda-graphs",
                   "Replay each plain decode's Euler steps from a CUDA graph captured per batch bucket (1, 2, 4, ... "
                   "up to --decode-max-batch-size; captured at load). Needs --device cuda and a build against a "
                   "CUDA LibTorch (server/README.md, \"The GPU path\").",
                   &ServerOptions::runtime, &RuntimeFlags::cuda_graphs));
  f.push_back(Bool("gpu-image-decode",
                   "Decode each encode batch's JPEG images with nvJPEG and resize them on the GPU (OpenCV's weights) "
                   "instead of on the image decode pool. Needs --device cuda and a build that found nvJPEG "
                   "(server/README.md, \"The GPU path\").",
                   &ServerOptions::runtime, &RuntimeFlags::gpu_image_decode));
  f.push_back(Str("batch-policy",
                  "Order of the " + dec + ": edf (earliest deadline first: the moment each robot runs out of actions; "
                  "batches sized to meet the earliest; no wait when nobody can join in time) or fifo (arrival order, "
                  "waits up to --decode-max-queue-delay-us; the default: EDF's tail under overload is worse, see server/README.md).",
                  [](ServerOptions& o) -> std::string& { return o.batch_policy; }));
  f.push_back(NUM("max-sessions", "Most concurrent robot sessions.", max_sessions));
  f.push_back(Duration("session-idle-timeout-s", "A session unused this long expires.", &ServerOptions::session_idle_timeout, absl::Seconds(1)));
  f.push_back(NUM("observation-history", "Encoded observations kept per session (Act may name one of them).", observation_history));
  f.push_back(NUM("max-image-bytes", "Largest encoded or raw image in bytes.", limits.max_image_bytes));
  f.push_back(NUM("max-image-side", "Largest image width or height in pixels (read from the JPEG/PNG header before decoding).",
                  limits.max_image_side));
  f.push_back(NUM("max-image-pixels", "Largest image width x height (read from the header before decoding).",
                  limits.max_image_pixels));
  f.push_back(NUM("max-views", "Most cameras per session (also capped by the model).", limits.max_views));
  f.push_back(NUM("max-instruction-bytes", "Longest instruction in UTF-8 bytes.", limits.max_instruction_bytes));
  f.push_back(NUM("max-robot-id-bytes", "Longest StartSession.robot_id in UTF-8 bytes.", limits.max_robot_id_bytes));
  f.push_back(NUM("max-task-bytes", "Longest task name (StartSession.task, ReportEpisode.task) in UTF-8 bytes.",
                  limits.max_task_bytes));
  f.push_back(NUM("max-camera-name-bytes", "Longest camera name in UTF-8 bytes.", limits.max_camera_name_bytes));
  f.push_back(NUM("max-session-id-bytes", "Longest session_id accepted (issued ids are 32 hex digits).",
                  limits.max_session_id_bytes));
  f.push_back(NUM("max-note-bytes", "Longest ReportEpisode.note in UTF-8 bytes.", limits.max_note_bytes));
  f.push_back(Real("joint-margin-rad", "Joint positions may exceed the embodiment's joint limits by this much.",
                   &ServerOptions::limits, &InputLimits::joint_margin_rad));
  f.push_back(Real("gripper-margin", "Gripper values may exceed the gripper's range by this much (its units).",
                   &ServerOptions::limits, &InputLimits::gripper_margin));
  f.push_back(Real("workspace-m", "End-effector positions must lie within +-this many metres on each axis.",
                   &ServerOptions::limits, &InputLimits::workspace_m));
  f.push_back(Real("max-unified-abs", "Largest |value| of a unified proprioception entry.", &ServerOptions::limits,
                   &InputLimits::max_unified_abs));
  f.push_back(Real("min-control-rate-hz", "Lowest StartSession.control_rate_hz accepted (0 = the model's default).",
                   &ServerOptions::limits, &InputLimits::min_control_rate_hz));
  f.push_back(Real("max-control-rate-hz", "Highest StartSession.control_rate_hz accepted.", &ServerOptions::limits,
                   &InputLimits::max_control_rate_hz));
  f.push_back(Num("max-future-skew-s", "Observation and capture times may be at most this far past the server clock (>= 0 always).",
                  [](const ServerOptions& o) -> int64_t { return o.limits.max_future_skew_us / 1000000; },
                  [](ServerOptions* o, int64_t v) { o->limits.max_future_skew_us = v * 1000000; }));
  f.push_back(Str("embodiment-dir", "Embodiment descriptions for the joint and gripper ranges (default: $MIVLA_EMBODIMENT_DIR or the source tree).",
                  [](ServerOptions& o) -> std::string& { return o.embodiment_dir; }));
  f.push_back(NUM("image-decode-threads", "Threads decoding images before the encode stage.", image_decode_threads));
  f.push_back(NUM("image-decode-max-pending", "Observations waiting for image decoding beyond which RESOURCE_EXHAUSTED is answered.",
                  image_decode_max_pending));
  f.push_back(NUM("max-in-flight-per-session", "Calls one session may have in flight; more get RESOURCE_EXHAUSTED at once (0: no cap).",
                  max_in_flight_per_session));
  f.push_back(NUM("max-in-flight-per-client", "Calls one client may have in flight (0: no cap; a client is a bearer token, "
                  "or with --clients-by-address a peer IP address).", max_in_flight_per_client));
  f.push_back(NUM("max-sessions-per-client", "Sessions one client may hold (0: no cap; needs --token-file or --clients-by-address).",
                  max_sessions_per_client));
  f.push_back(Bool("clients-by-address", "Without --token-file, tell clients apart by peer IP address for the per-client caps "
                   "(robots behind one NAT or proxy share them).", &ServerOptions::clients_by_address));
  f.push_back(Duration(
      "stream-idle-timeout-s",
      "A StreamAct stream that sends nothing this long, with no request of its own in the engine, is ended (0: never).",
      &ServerOptions::stream_idle_timeout, absl::Seconds(1)));
  f.push_back(NUM("heap-keep-mib",
                  "Under tcmalloc, free heap pages that stayed free for 30 s beyond this many MiB are given "
                  "back to the kernel (what bursts of large requests leave); -1: never.",
                  heap_keep_mib));
  f.push_back(NUM("max-task-labels", "Distinct episode task labels per embodiment in the metrics; later ones count as 'other'.",
                  max_task_labels));
  f.push_back(Str("task-labels", "Comma-separated task names always kept as metric labels.",
                  [](ServerOptions& o) -> std::string& { return o.task_labels; }));
  f.push_back(Real("refusal-log-per-second", "Refused-request JSON log lines per second (excess counted as suppressed).",
                   &ServerOptions::refusal_log_per_second));
  f.push_back(NUM("refusal-log-burst", "Refusal log lines allowed in a burst.", refusal_log_burst));
  f.push_back(Str("tls-cert", "PEM server certificate chain (enables TLS).", [](ServerOptions& o) -> std::string& { return o.tls.cert_file; }));
  f.push_back(Str("tls-key", "PEM private key of --tls-cert.", [](ServerOptions& o) -> std::string& { return o.tls.key_file; }));
  f.push_back(Str("tls-client-ca", "PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS).",
                  [](ServerOptions& o) -> std::string& { return o.tls.client_ca_file; }));
  f.push_back(Str("token-file", "File of accepted bearer tokens, one per line; when set, calls need 'authorization: Bearer <token>'.",
                  [](ServerOptions& o) -> std::string& { return o.token_file; }));
  f.push_back(Duration("drain-timeout-s", "On SIGTERM/SIGINT, how long in-flight calls may take to finish.",
                       &ServerOptions::drain_timeout, absl::Seconds(1)));
  return f;
}

#undef NUM

}  // namespace

std::string ServerFlagsHelp(const ServerOptions& defaults) {
  std::string out =
      "mivla-server: the MiVLA batched policy server (gRPC mivla.v1.PolicyService, grpc.health.v1.Health,\n"
      "server reflection; Prometheus metrics on /metrics). SIGTERM/SIGINT drain and exit 0; SIGHUP rescans\n"
      "the model directory (and re-reads --pin-file); SIGUSR1 promotes the canary in trial now, SIGUSR2 rolls\n"
      "it back now (--canary-share).\n\n"
      "usage: mivla-server [--model-dir DIR] [--port P] [--metrics-port M] [flags]\n"
      "       mivla-server --random-init --config tiny [flags]\n\n"
      "  --config-file FILE  JSON object of flag values, e.g. {\"port\": 50051, \"random-init\": true};\n"
      "                      flags on the command line override it.\n"
      "  --help              this text.\n";
  for (const Flag& f : Flags()) {
    absl::StrAppend(&out, "  --", f.name, f.boolean ? "" : " VALUE", "\n      ", f.help, " (default: ", f.show(defaults), ")\n");
  }
  return out;
}

absl::StatusOr<ParsedFlags> ParseServerFlags(int argc, const char* const* argv, ServerOptions defaults) {
  const std::vector<Flag> flags = Flags();
  auto find = [&](const std::string& name) -> const Flag* {
    for (const Flag& f : flags) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  // Split the command line into (name, value) pairs.
  std::vector<std::pair<std::string, std::string>> given;
  std::string config_file;
  ParsedFlags out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "' (flags start with --; see --help)"));
    }
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    const bool has_value = eq != std::string::npos;
    if (has_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "config-file") {
      if (!has_value) {
        if (i + 1 >= argc) return absl::InvalidArgumentError("--config-file needs a file");
        value = argv[++i];
      }
      config_file = value;
      continue;
    }
    const Flag* f = find(name);
    if (f == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag '--", name, "' (see --help)"));
    if (!has_value && !f->boolean) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      value = argv[++i];
    }
    given.push_back({name, value});
  }
  out.options = std::move(defaults);
  if (!config_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(config_file);
    if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat("--config-file: ", text.status().message()));
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("--config-file '", config_file, "': not a JSON object"));
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      const Flag* f = find(it.key());
      if (f == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("--config-file '", config_file, "': unknown key '", it.key(), "'"));
      }
      std::string v = it->is_string() ? it->get<std::string>() : it->dump();
      if (absl::Status s = f->set(v, &out.options); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("--config-file '", config_file, "': ", s.message()));
      }
    }
  }
  for (const auto& [name, value] : given) {
    if (absl::Status s = find(name)->set(value, &out.options); !s.ok()) return s;
  }
  return out;
}

}  // namespace mivla::server
