// File: server_options.h
// Everything mivla-server can be configured with, as data. The binary fills it from flags (and an
// optional JSON config file of flag values, see mivla_server.cc); tests and the benchmark fill it directly.
#ifndef MIVLA_SERVER_SERVICE_SERVER_OPTIONS_H_
#define MIVLA_SERVER_SERVICE_SERVER_OPTIONS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/inference/input_limits.h"
#include "server/model_manager/rollout_policy.h"
#include "server/runtime_api/runtime_flags.h"
#include "server/runtime_api/runtime_loader.h"
#include "server/service/auth.h"

namespace mivla::server {

struct StageOptions {
  int max_batch_size = 16;
  int64_t max_queue_delay_us = 2000;
  int max_queue_depth = 64;
  int workers = 1;
};

struct ServerOptions {
  // Network.
  std::string host = "0.0.0.0";
  int port = 50051;               // 0: pick a free port (see PolicyServer::port())
  int metrics_port = 9464;        // -1: no metrics endpoint; 0: pick a free port
  std::string metrics_host = "0.0.0.0";  // --metrics-address (alias --metrics-host)
  absl::Duration metrics_deadline = absl::Seconds(5);  // per metrics connection, accept to last byte
  int metrics_max_connections = 32;
  int max_message_bytes = 16 << 20;
  // Requests of the RPCs that carry no images (StartSession, EndSession, Act, GetPolicyInfo,
  // ReportEpisode): larger ones are refused INVALID_ARGUMENT by their size, before they are parsed (a
  // 15 MB robot_id is never copied into a message). 4 MiB holds an Act's committed steps at the
  // largest control rate (a chunk of 3,200 steps of 76 floats at 2,000 Hz). Above max_message_bytes
  // it changes nothing (gRPC refuses those first).
  int max_control_request_bytes = 4 << 20;
  // Model.
  std::string model_dir;
  absl::Duration poll_interval = absl::Seconds(2);
  absl::Duration settle_time = absl::Milliseconds(500);
  bool random_init = false;
  std::string config = "tiny";    // random-init configuration
  uint64_t seed = 1;              // random-init seed
  RolloutOptions rollout;         // success-gated rollout: --canary-*, --rollout-state-dir, --pin-* (off by default)
  // Builds each model version (not a flag): mivla-server sets the LibTorch loader made from `runtime`
  // (server/runtime/torch_runtime_loader.h); tests may set a fake.
  std::shared_ptr<const RuntimeLoader> runtime_loader;
  // The runtime's flags (--device, --precision, --tokenizer, --rtc-*, --blas-threads, --cuda-graphs):
  // carried, not read, by the server; the loader reads them.
  RuntimeFlags runtime;
  // Batching.
  StageOptions encode;
  StageOptions decode;
  bool drop_on_chunk_end = false;    // also drop Acts late for a run-out derived from the last chunk (act_deadline.h)
  // Decode (and encode) stage order: "fifo" (arrival) or "edf" (deadline-aware; batching/batch_planner.h).
  // FIFO by default: beside the soak's hostile client EDF's p99 was 5.4x its run alone vs 1.6x for FIFO
  // (server/README.md, "Batching").
  std::string batch_policy = "fifo";
  // Real-time chunking (issue 14): honour ActRequest.committed_steps (guided sampling); GetPolicyInfo
  // says so. The guided sampler's settings are runtime.rtc_*.
  bool realtime_chunking = true;
  // Sessions.
  int max_sessions = 256;
  absl::Duration session_idle_timeout = absl::Minutes(5);
  int observation_history = 4;
  // Input limits and checks.
  InputLimits limits;
  std::string embodiment_dir;     // joint/gripper ranges; "" = MIVLA_EMBODIMENT_DIR or the source tree
  int image_decode_threads = 2;
  int image_decode_max_pending = 64;
  // Fairness.
  int max_in_flight_per_session = 4;   // 0 = no cap
  int max_in_flight_per_client = 64;   // per client; 0 = no cap
  int max_sessions_per_client = 32;    // per client; 0 = no cap
  // Clients are bearer tokens; without a token file, and with this set, peer IP addresses (robots behind
  // one NAT or proxy then share one client's caps).
  bool clients_by_address = false;
  absl::Duration stream_idle_timeout = absl::ZeroDuration();  // 0 = streams never idle out
  // Memory: under tcmalloc, free heap pages that stayed free for a window (30 s) beyond this many MiB are
  // given back to the kernel (heap_trimmer.h); -1 = never.
  int heap_keep_mib = 64;
  // Metric labels and the refusal log.
  int max_task_labels = 32;            // distinct episode task labels per embodiment, then "other"
  std::string task_labels;             // comma-separated names always kept as labels
  double refusal_log_per_second = 20;  // refusal log lines per second (bursts of refusal_log_burst)
  int refusal_log_burst = 100;
  std::function<void(const std::string& line)> refusal_log_sink;  // not a flag; default stderr (tests capture)
  // Security.
  TlsFiles tls;
  std::string token_file;
  // Shutdown.
  absl::Duration drain_timeout = absl::Seconds(10);
};

/// INVALID_ARGUMENT naming the option (flag spelling) that is out of range or inconsistent.
absl::Status ValidateServerOptions(const ServerOptions& o);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_SERVER_OPTIONS_H_
