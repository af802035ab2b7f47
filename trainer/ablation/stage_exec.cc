// File: stage_exec.cc
#include "trainer/ablation/stage_exec.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"
#include "httplib.h"
#include "trainer/ablation/child_process.h"
#include "trainer/ablation/stage_store.h"

namespace mivla::trainer::ablation {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::optional<json> ReadJsonFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

absl::Status ChildFailed(const Stage& stage, const ChildProcess& child, const std::string& why) {
  return absl::InternalError(absl::StrCat("stage ", stage.name, " failed: ", why, "\n  command: ",
                                          CommandLine(child.argv()), "\n  log: ", child.log_path()));
}

int CountEpisodeFiles(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory() && it->path().filename() == ".partial") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().extension() == ".hdf5") ++n;
  }
  return n;
}

/// Drives `child` until it exits or `should_stop`; calls `tick` about every second.
/// Returns true when it was stopped (SIGTERM, then SIGKILL after the grace time).
bool Supervise(ChildProcess& child, const ExecOptions& o, const std::function<void()>& tick) {
  auto last_tick = Clock::now() - std::chrono::seconds(10);
  while (!child.Poll()) {
    if (o.should_stop && o.should_stop()) {
      child.Terminate(o.stop_grace_s);
      return true;
    }
    if (Clock::now() - last_tick >= std::chrono::seconds(1)) {
      last_tick = Clock::now();
      if (tick) tick();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

absl::StatusOr<ExecResult> RunData(const Stage& s, const ExecOptions& o) {
  ASSIGN_OR_RETURN(auto child, ChildProcess::Start({s.argv, s.log_path}));
  const bool stopped = Supervise(*child, o, [&] {
    if (o.on_progress) {
      const int n = CountEpisodeFiles(s.dir);
      o.on_progress(static_cast<double>(n) / static_cast<double>(s.units), absl::StrCat(n, "/", s.units, " episodes"));
    }
  });
  if (stopped) return ExecResult{ExecOutcome::kStopped, json::object()};
  if (!ExitedOk(*child->exit_status())) return ChildFailed(s, *child, DescribeExit(*child->exit_status()));
  std::optional<json> summary = ReadJsonFile((fs::path(s.dir) / "summary.json").string());
  if (!summary) return ChildFailed(s, *child, "no readable summary.json in " + s.dir);
  const int64_t complete = summary->value("episodes_complete", int64_t{-1});
  if (complete != s.units) {
    return ChildFailed(s, *child, absl::StrCat(complete, " of ", s.units, " episodes complete"));
  }
  json r = {{"episodes", complete}, {"frames", summary->value("frames_total", int64_t{0})},
            {"datagen_seconds", summary->value("seconds", 0.0)}, {"dir", s.dir}};
  if (summary->contains("expert_success_rate")) r["expert_success_rate"] = (*summary)["expert_success_rate"];
  return ExecResult{ExecOutcome::kDone, r};
}

absl::StatusOr<ExecResult> RunTraining(const Stage& s, const ExecOptions& o) {
  RETURN_IF_ERROR(WriteFileAtomic(s.train_config_path, s.train_config.dump(2) + "\n"));
  std::error_code ec;
  fs::create_directories(s.dir, ec);
  ASSIGN_OR_RETURN(auto child, ChildProcess::Start({s.argv, s.log_path}));
  const bool stopped = Supervise(*child, o, [&] {
    if (!o.on_progress) return;
    const int64_t step = LastLoggedStep(s.dir);
    o.on_progress(step < 0 ? 0.0 : static_cast<double>(step) / static_cast<double>(s.units),
                  step < 0 ? std::string("loading data") : absl::StrCat("step ", step, "/", s.units));
  });
  const bool finished = fs::exists(s.final_checkpoint);
  if (stopped && !finished) return ExecResult{ExecOutcome::kStopped, json::object()};
  if (!stopped && !ExitedOk(*child->exit_status())) return ChildFailed(s, *child, DescribeExit(*child->exit_status()));
  if (!finished) return ChildFailed(s, *child, "it exited without writing " + s.final_checkpoint);
  json r = {{"checkpoint", s.final_checkpoint}, {"steps", s.units}, {"dir", s.dir}};
  if (std::optional<json> sum = ReadJsonFile((fs::path(s.dir) / "summary.json").string())) {
    for (const char* k : {"first_loss", "last_loss", "samples_per_s", "first_step", "last_step", "init", "device"}) {
      if (sum->contains(k)) r[k] = (*sum)[k];
    }
  }
  return ExecResult{ExecOutcome::kDone, r};
}

/// Waits for the server's {"event":"listening",...} line in its log after `offset`.
absl::StatusOr<int> WaitListening(const Stage& s, ChildProcess& server, std::streamoff offset, const ExecOptions& o) {
  const auto end = Clock::now() + std::chrono::duration<double>(o.server_start_timeout_s);
  while (Clock::now() < end) {
    std::ifstream in(s.log_path);
    in.seekg(offset);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("{\"event\":\"listening\"", 0) != 0) continue;
      json j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) {
        const int port = j.value("port", 0), metrics = j.value("metrics_port", 0);
        // Health: the model registry must report the loaded version.
        httplib::Client c("127.0.0.1", metrics);
        auto res = c.Get("/metrics");
        if (!res || res->status != 200 || res->body.find("mivla_model_info{") == std::string::npos) {
          return ChildFailed(s, server, "mivla-server listens but /metrics shows no loaded model");
        }
        return port;
      }
    }
    if (server.Poll()) return ChildFailed(s, server, "mivla-server " + DescribeExit(*server.exit_status()));
    if (o.should_stop && o.should_stop()) return absl::CancelledError("stopped");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return ChildFailed(s, server, absl::StrCat("mivla-server did not listen within ", o.server_start_timeout_s, " s"));
}

absl::StatusOr<ExecResult> RunEval(const Stage& s, const ExecOptions& o) {
  if (!fs::exists(s.serve_checkpoint)) {
    return absl::FailedPreconditionError(absl::StrCat("stage ", s.name, ": the checkpoint to serve, ",
                                                      s.serve_checkpoint, ", does not exist"));
  }
  // The server's model folder holds exactly this checkpoint (a hard link, else a copy).
  const fs::path serve_dir = s.serve_dir;
  std::error_code ec;
  fs::create_directories(serve_dir, ec);
  for (fs::directory_iterator it(serve_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() != fs::path(s.serve_checkpoint).filename()) fs::remove(it->path(), ec);
  }
  const fs::path served = serve_dir / fs::path(s.serve_checkpoint).filename();
  if (!fs::exists(served)) {
    fs::create_hard_link(s.serve_checkpoint, served, ec);
    if (ec) {
      ec.clear();
      fs::copy_file(s.serve_checkpoint, served, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) return absl::InternalError(absl::StrCat("stage ", s.name, ": cannot place ", served.string(), ": ", ec.message()));
  }
  fs::create_directories(s.dir, ec);
  fs::remove(fs::path(s.dir) / "eval.json", ec);
  fs::create_directories(fs::path(s.log_path).parent_path(), ec);
  std::streamoff offset = 0;
  if (fs::exists(s.log_path)) offset = static_cast<std::streamoff>(fs::file_size(s.log_path, ec));
  ASSIGN_OR_RETURN(auto server, ChildProcess::Start({s.argv, s.log_path}));
  absl::StatusOr<int> port = WaitListening(s, *server, offset, o);
  if (!port.ok()) {
    server->Terminate(10);
    if (port.status().code() == absl::StatusCode::kCancelled) return ExecResult{ExecOutcome::kStopped, json::object()};
    return port.status();
  }
  std::vector<std::string> argv = s.eval_argv;
  argv.insert(argv.begin() + 1, {"--server", absl::StrCat("127.0.0.1:", *port)});
  const auto t0 = Clock::now();
  ASSIGN_OR_RETURN(auto eval, ChildProcess::Start({argv, s.log_path}));
  const bool stopped = Supervise(*eval, o, [&] {
    if (o.on_progress) {
      o.on_progress(-1, absl::StrCat(static_cast<int>(std::chrono::duration<double>(Clock::now() - t0).count()),
                                     " s of ", s.units, " episodes"));
    }
    if (server->Poll()) eval->Signal(SIGTERM);  // the server died: the eval cannot go on
  });
  const bool server_died = server->Poll();
  server->Terminate(30);
  if (stopped) return ExecResult{ExecOutcome::kStopped, json::object()};
  if (server_died) return ChildFailed(s, *server, "mivla-server exited during the evaluation");
  if (!ExitedOk(*eval->exit_status())) return ChildFailed(s, *eval, DescribeExit(*eval->exit_status()));
  std::optional<json> report = ReadJsonFile((fs::path(s.dir) / "eval.json").string());
  if (!report || !report->contains("tasks") || (*report)["tasks"].empty()) {
    return ChildFailed(s, *eval, "no readable eval.json with a task in " + s.dir);
  }
  const json& t = (*report)["tasks"][0];
  json r = {{"task", t.value("task", s.task)}, {"mode", s.mode}, {"variant", s.variant},
            {"episodes", t.value("episodes", 0)}, {"errors", t.value("errors", 0)},
            {"successes", t.value("successes", 0)},
            {"success_rate", t.value("success_rate", 0.0)}, {"completeness", t.value("completeness", 0.0)},
            {"mean_time_to_success_s", t.contains("mean_time_to_success_s") ? t["mean_time_to_success_s"] : json()},
            {"seed", report->value("seed", int64_t{0})}, {"wall_s", report->value("wall_s", 0.0)},
            {"checkpoint", s.serve_checkpoint}};
  return ExecResult{ExecOutcome::kDone, r};
}

}  // namespace

int64_t LastLoggedStep(const std::string& dir) {
  std::ifstream in((fs::path(dir) / "train_log.csv").string(), std::ios::binary);
  if (!in) return -1;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - 4096);
  in.seekg(start);
  std::string tail(static_cast<size_t>(size - start), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  int64_t step = -1;
  for (absl::string_view line : absl::StrSplit(tail, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> cells = absl::StrSplit(line, ',');
    int64_t v;
    if (!cells.empty() && absl::SimpleAtoi(cells[0], &v)) step = v;
  }
  return step;
}

absl::StatusOr<ExecResult> RunStage(const Stage& stage, const ExecOptions& options) {
  switch (stage.kind) {
    case StageKind::kData: return RunData(stage, options);
    case StageKind::kPretrain:
    case StageKind::kFinetune: return RunTraining(stage, options);
    case StageKind::kEval: return RunEval(stage, options);
    case StageKind::kReport: break;
  }
  return absl::InvalidArgumentError(absl::StrCat("stage ", stage.name, " is not run by RunStage"));
}

}  // namespace mivla::trainer::ablation
