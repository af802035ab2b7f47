// File: generator.cc
#include "trainer/datagen/generator.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/robot/robot_config.h"
#include "core/util/progress_bar.h"
#include "core/util/split_mix64.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"
#include "sim/renderer.h"
#include "sim/rollout.h"
#include "trainer/datagen/episode_store.h"
#include "trainer/datagen/takeover.h"

namespace mivla::datagen {
namespace fs = std::filesystem;

namespace {

const char* StatusName(EpisodeOutcome::Status s) {
  switch (s) {
    case EpisodeOutcome::Status::kWritten: return "written";
    case EpisodeOutcome::Status::kSkipped: return "skipped";
    case EpisodeOutcome::Status::kFailed: return "failed";
  }
  return "?";
}

// Shared state of the workers.
struct Run {
  Run(const GenerateOptions& o, const EpisodeStore& s, const std::vector<int>& p, ProgressBar& b,
      std::optional<TakeoverOptions> t)
      : options(o), store(s), pending(p), progress(b), takeover(std::move(t)) {}
  const GenerateOptions& options;
  const EpisodeStore& store;
  const std::vector<int>& pending;
  ProgressBar& progress;
  const std::optional<TakeoverOptions> takeover;  // set: a policy drives first (options.policy_server)
  std::atomic<size_t> next{0};
  std::atomic<int> attempts{0};
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  int done ABSL_GUARDED_BY(mu) = 0;
  std::vector<EpisodeOutcome> outcomes ABSL_GUARDED_BY(mu);
  absl::Status fatal ABSL_GUARDED_BY(mu);
};

// Runs attempts for one episode until a rollout succeeds and is written.
absl::StatusOr<EpisodeOutcome> MakeEpisode(Run& run, int index, sim::Renderer* renderer) {
  const GenerateOptions& o = run.options;
  EpisodeOutcome out;
  out.index = index;
  out.path = run.store.HdfPath(index);
  for (int attempt = 0; attempt < o.max_attempts && !run.stop; ++attempt) {
    sim::EpisodeOptions eo;
    eo.task = o.task;
    eo.embodiment = o.embodiment;
    eo.mode = o.mode;
    eo.seed = EpisodeSeed(o.seed, index, attempt);
    eo.record = true;
    eo.render = true;
    ++out.attempts;
    run.attempts.fetch_add(1);
    sim::Episode episode;
    if (run.takeover) {
      ASSIGN_OR_RETURN(TakeoverResult t, RunTakeoverEpisode(*run.takeover, eo, renderer));
      out.takeover_tick = t.tick;
      if (!t.episode) {
        ++out.discarded;
        absl::StrAppend(&out.note, out.note.empty() ? "" : "; ", "seed ", eo.seed, " discarded: ", t.discarded);
        continue;
      }
      episode = std::move(*t.episode);
    } else {
      ASSIGN_OR_RETURN(episode, sim::RunEpisode(eo, renderer));
    }
    if (!episode.success) {
      absl::StrAppend(&out.note, out.note.empty() ? "" : "; ", "seed ", eo.seed, " failed (completeness ",
                      episode.completeness, episode.diverged ? ", diverged" : "", ")");
      continue;
    }
    std::vector<SceneCamera> cameras;
    if (o.embodiment != action::Embodiment::kHuman) {
      ASSIGN_OR_RETURN(sim::EpisodeScene scene, sim::MakeEpisodeScene(eo));
      cameras = DescribeCameras(*scene.env);
    }
    ASSIGN_OR_RETURN(out.frames, run.store.Write(index, episode, cameras));
    out.seed = eo.seed;
    out.status = EpisodeOutcome::Status::kWritten;
    return out;
  }
  out.status = EpisodeOutcome::Status::kFailed;
  out.note = absl::StrCat("no successful rollout in ", out.attempts, " attempts: ", out.note);
  return out;
}

// Stops the run; the first fatal error is the one RunDatagen returns.
void Stop(Run& run, absl::Status fatal) ABSL_EXCLUSIVE_LOCKS_REQUIRED(run.mu) {
  if (run.fatal.ok()) run.fatal = std::move(fatal);
  run.stop = true;
}

// One worker: makes its own renderer (sim::Renderer guards the process-wide EGL and GL state), then
// takes pending episodes until none are left or a fatal error stops the run.
void Worker(Run& run, int worker) {
  absl::StatusOr<std::unique_ptr<sim::Renderer>> renderer = sim::Renderer::Create();
  if (!renderer.ok()) {
    absl::MutexLock lock(&run.mu);
    Stop(run, WithPrefix(renderer.status(), absl::StrCat("datagen worker ", worker, ": cannot create the renderer: ")));
    return;
  }
  while (!run.stop) {
    const size_t k = run.next.fetch_add(1);
    if (k >= run.pending.size()) return;
    const int index = run.pending[k];
    absl::StatusOr<EpisodeOutcome> outcome = MakeEpisode(run, index, renderer->get());
    absl::MutexLock lock(&run.mu);
    if (!outcome.ok()) {
      Stop(run, WithPrefix(outcome.status(), absl::StrCat("episode ", index, ": ")));
      return;
    }
    ++run.done;
    run.progress.Update(run.done,
                        absl::StrCat("attempts ", run.attempts.load(), "  episode ", index, outcome->status == EpisodeOutcome::Status::kFailed ? " FAILED" : "",
                                     " (", outcome->frames, " frames)"));
    run.outcomes.push_back(std::move(*outcome));
  }
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) return absl::InternalError(absl::StrCat(tmp, ": cannot write"));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

uint64_t EpisodeSeed(uint64_t run_seed, int index, int attempt) {
  const uint64_t mixed = SplitMix64(SplitMix64(SplitMix64(run_seed) ^ static_cast<uint64_t>(index)) ^
                                    (static_cast<uint64_t>(attempt) << 32));
  return mixed & 0x7FFFFFFFull;  // fits mivla-sim's --first-seed, to replay one episode there
}

nlohmann::json RunSummary::ToJson() const {
  nlohmann::json j;
  j["task"] = options.task;
  j["embodiment"] = CliEmbodimentName(options.embodiment);
  j["mode"] = sim::ModeName(options.mode);
  j["seed"] = options.seed;
  j["format"] = format;
  j["out"] = options.out_dir;
  j["episode_dir"] = episode_dir;
  j["workers"] = options.workers;
  j["episodes_requested"] = options.episodes;
  j["episodes_written"] = written;
  j["episodes_skipped"] = skipped;
  j["episodes_redone"] = redone;
  j["episodes_failed"] = failed;
  j["episodes_complete"] = written + skipped;
  j["attempts"] = attempts;
  j["expert_successes"] = expert_successes;
  const int expert_runs = attempts - discarded;  // discarded takeovers never reached the expert
  j["expert_success_rate"] =
      expert_runs > 0 ? nlohmann::json(static_cast<double>(expert_successes) / expert_runs) : nlohmann::json(nullptr);
  j["frames"] = frames_written;
  j["frames_total"] = frames_total;
  j["seconds"] = seconds;
  if (!options.policy_server.empty()) {
    j["takeover"] = {{"policy_server", options.policy_server},
                     {"robot_config", options.robot_config},
                     {"min_ticks", options.takeover_min_ticks},
                     {"max_ticks", options.takeover_max_ticks},
                     {"discarded_attempts", discarded}};
  }
  nlohmann::json list = nlohmann::json::array();
  for (const EpisodeOutcome& e : episodes) {
    nlohmann::json item{{"index", e.index}, {"status", StatusName(e.status)}, {"frames", e.frames}, {"path", e.path}};
    if (e.status == EpisodeOutcome::Status::kWritten) item["seed"] = e.seed;
    if (e.attempts > 0) item["attempts"] = e.attempts;
    if (e.takeover_tick >= 0 && e.status == EpisodeOutcome::Status::kWritten) item["takeover_tick"] = e.takeover_tick;
    if (!e.note.empty()) item["note"] = e.note;
    list.push_back(std::move(item));
  }
  j["episodes"] = std::move(list);
  return j;
}

absl::StatusOr<std::optional<TakeoverOptions>> LoadTakeoverOptions(const GenerateOptions& options) {
  if (options.policy_server.empty()) return std::nullopt;
  TakeoverOptions t;
  t.server = options.policy_server;
  const std::string path =
      options.robot_config.empty() ? client::DefaultRobotConfigPath(options.embodiment) : options.robot_config;
  absl::StatusOr<client::RobotConfig> config = client::LoadRobotConfig(path);
  if (!config.ok()) {
    return absl::Status(config.status().code(), absl::StrCat("--robot-config: ", config.status().message()));
  }
  if (config->embodiment != options.embodiment) {
    return absl::InvalidArgumentError(absl::StrCat("--robot-config: ", path, " is for ",
                                                   CliEmbodimentName(config->embodiment), ", not ",
                                                   CliEmbodimentName(options.embodiment)));
  }
  t.config = *std::move(config);
  t.min_ticks = options.takeover_min_ticks;
  t.max_ticks = options.takeover_max_ticks;
  return t;
}

absl::StatusOr<RunSummary> RunDatagen(const GenerateOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::optional<TakeoverOptions> takeover, LoadTakeoverOptions(options));
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec || !fs::is_directory(options.out_dir)) {
    return absl::FailedPreconditionError(absl::StrCat(options.out_dir, ": cannot create the output directory",
                                                      ec ? ": " + ec.message() : ""));
  }
  EpisodeStore store(options.out_dir, options.task, options.embodiment, options.mode);
  RunSummary summary;
  summary.options = options;
  summary.format = options.embodiment == action::Embodiment::kHuman ? "egodex" : "robotwin";
  summary.episode_dir = store.EpisodeDir();
  std::vector<int> pending;
  std::vector<std::string> redo_notes(options.episodes);
  for (int i = 0; i < options.episodes; ++i) {
    absl::StatusOr<int> frames = store.Finished(i);
    if (frames.ok()) {
      EpisodeOutcome e;
      e.index = i;
      e.status = EpisodeOutcome::Status::kSkipped;
      e.frames = *frames;
      e.path = store.HdfPath(i);
      summary.episodes.push_back(e);
      continue;
    }
    if (frames.status().code() != absl::StatusCode::kNotFound) {
      redo_notes[i] = absl::StrCat("redone: ", frames.status().message());
      std::cerr << "mivla-datagen: episode " << i << " is damaged, redoing it: " << frames.status().message() << "\n";
    }
    pending.push_back(i);
  }
  ProgressBar progress({static_cast<int>(pending.size()), options.progress && !pending.empty()});
  if (options.progress) {
    std::cerr << "mivla-datagen: " << options.task << " / " << CliEmbodimentName(options.embodiment) << " / "
              << sim::ModeName(options.mode) << ": " << pending.size() << " episodes to generate, "
              << summary.episodes.size() << " already finished, " << std::min<size_t>(options.workers, pending.size())
              << " workers -> " << store.EpisodeDir() << "\n";
  }
  Run run(options, store, pending, progress, std::move(takeover));
  const int workers = std::min<int>(options.workers, pending.size());
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) threads.emplace_back([&run, w] { Worker(run, w); });
  for (std::thread& t : threads) t.join();
  progress.Finish();
  {
    absl::MutexLock lock(&run.mu);
    if (!run.fatal.ok()) return run.fatal;
    for (EpisodeOutcome& e : run.outcomes) {
      if (!redo_notes[e.index].empty()) {
        ++summary.redone;
        e.note = e.note.empty() ? redo_notes[e.index] : absl::StrCat(redo_notes[e.index], "; ", e.note);
      }
      summary.episodes.push_back(std::move(e));
    }
  }
  store.RemovePartial();
  std::sort(summary.episodes.begin(), summary.episodes.end(),
            [](const EpisodeOutcome& a, const EpisodeOutcome& b) { return a.index < b.index; });
  for (const EpisodeOutcome& e : summary.episodes) {
    summary.attempts += e.attempts;
    summary.discarded += e.discarded;
    summary.frames_total += e.frames;
    switch (e.status) {
      case EpisodeOutcome::Status::kWritten:
        ++summary.written;
        ++summary.expert_successes;
        summary.frames_written += e.frames;
        break;
      case EpisodeOutcome::Status::kSkipped: ++summary.skipped; break;
      case EpisodeOutcome::Status::kFailed: ++summary.failed; break;
    }
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RETURN_IF_ERROR(WriteFileAtomically((fs::path(options.out_dir) / "summary.json").string(),
                                      summary.ToJson().dump(2) + "\n"));
  return summary;
}

}  // namespace mivla::datagen
