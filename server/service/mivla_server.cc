// mivla-server: the batched MiVLA policy server. See `mivla-server --help` and server/README.md.
//
//   mivla-server --model-dir /models --port 50051 --metrics-port 9464
//   mivla-server                         (the bundled checkpoint: $MIVLA_MODEL_DIR or the repository's models/)
//   mivla-server --random-init --config tiny --port 0    (tests and benchmarks only)
//
// Signals: SIGTERM / SIGINT -> health NOT_SERVING, new calls refused, in-flight calls drained within
// --drain-timeout-s, exit 0. SIGHUP -> rescan the model directory now (and re-read --pin-file).
// SIGUSR1 / SIGUSR2 -> promote / roll back the canary in trial now (success-gated rollout).
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "absl/strings/str_cat.h"
#include "core/util/bundled_models.h"
#include "core/util/log.h"
#include "server/runtime/torch_runtime_loader.h"
#include "server/service/policy_server.h"
#include "server/service/server_flags.h"

namespace {

// protobuf logs one ERROR line for every request string that is not UTF-8; the refusal log already
// reports each such request (rate-limited), so those lines are dropped and every other one kept.
void ProtobufLog(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
  if (message.find("contains invalid UTF-8 data") != std::string::npos) return;
  std::fprintf(stderr, "[libprotobuf %d %s:%d] %s\n", static_cast<int>(level), file, line, message.c_str());
}

int Main(int argc, char** argv) {
  google::protobuf::SetLogHandler(&ProtobufLog);
  mivla::server::ServerOptions defaults;
  defaults.runtime.tokenizer_file = MIVLA_DEFAULT_TOKENIZER;
  auto parsed = mivla::server::ParseServerFlags(argc, argv, defaults);
  if (!parsed.ok()) {
    std::cerr << "mivla-server: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << mivla::server::ServerFlagsHelp(defaults);
    return 0;
  }
  mivla::server::ServerOptions& options = parsed->options;
  if (options.model_dir.empty() && !options.random_init) {
    const std::string bundled = mivla::BundledModelDir();
    if (!mivla::HoldsCheckpoint(bundled)) {
      std::cerr << "mivla-server: --model-dir not given, and the bundled model folder " << bundled
                << " holds no *.mivla checkpoint (pass --model-dir DIR, or --random-init for tests)\n";
      return 2;
    }
    options.model_dir = bundled;
    mivla::LogInfo("server", "no --model-dir: serving the bundled model folder " + bundled);
  }
  // Block the signals in every thread; this thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  parsed->options.runtime.cuda_graph_max_batch = parsed->options.decode.max_batch_size;
  auto loader = mivla::server::MakeTorchRuntimeLoader(parsed->options.runtime);
  if (!loader.ok()) {
    std::cerr << "mivla-server: " << loader.status().message() << "\n";
    return 2;
  }
  parsed->options.runtime_loader = *std::move(loader);
  auto server = mivla::server::PolicyServer::Create(parsed->options);
  if (!server.ok()) {
    std::cerr << "mivla-server: " << server.status().message() << "\n";
    return 2;
  }
  if (absl::Status s = (*server)->Start(); !s.ok()) {
    std::cerr << "mivla-server: " << s.message() << "\n";
    return 1;
  }
  // One machine-readable line for supervisors and tests that start it with --port 0.
  std::printf("{\"event\":\"listening\",\"port\":%d,\"metrics_port\":%d}\n", (*server)->port(),
              (*server)->metrics_port());
  std::fflush(stdout);
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      mivla::LogInfo("server", "SIGHUP: rescanning the model directory");
      (*server)->models().RequestReload();
      continue;
    }
    if (sig == SIGUSR1 || sig == SIGUSR2) {  // operator decisions on the canary in trial (rollout)
      const bool promote = sig == SIGUSR1;
      mivla::server::ModelManager& models = (*server)->models();
      const absl::Status s = promote ? models.PromoteCanary() : models.RollbackCanary();
      mivla::LogInfo("server", absl::StrCat(promote ? "SIGUSR1: promote" : "SIGUSR2: roll back", " the canary: ",
                                            s.ok() ? "done" : std::string(s.message())));
      continue;
    }
    mivla::LogInfo("server", absl::StrCat("signal ", sig, ": graceful shutdown"));
    break;
  }
  (*server)->Shutdown(parsed->options.drain_timeout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
