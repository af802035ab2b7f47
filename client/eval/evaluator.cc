// File: evaluator.cc
#include "client/eval/evaluator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "sim/task.h"

namespace mivla::client {

SimEpisodeOptions EpisodeFromConfig(const RobotConfig& config, const std::string& server, bool real_time) {
  SimEpisodeOptions o;
  o.driver.embodiment = config.embodiment;
  o.driver.control_period_s = config.sim_control_period_s;
  o.driver.camera_period_s = config.sim_camera_period_s;
  o.driver.real_time = real_time;
  o.connection = config.connection;
  o.connection.target = server;
  o.connection.rpc_timeout_ms = std::max<int64_t>(config.connection.rpc_timeout_ms, 30000);
  o.connection.connect_timeout_ms = std::max<int64_t>(config.connection.connect_timeout_ms, 5000);
  o.client.scheduler = config.scheduler;
  o.client.safety = config.safety;
  o.client.gripper = config.gripper;
  o.client.adapter = config.adapter;
  o.client.robot_id = "mivla-eval";
  return o;
}

std::vector<std::string> TasksFor(action::Embodiment e) {
  std::vector<std::string> out;
  for (const sim::Task* t : sim::AllTasks()) {
    const std::vector<action::Embodiment> ok = sim::SupportedEmbodiments(*t);
    if (std::find(ok.begin(), ok.end(), e) != ok.end()) out.push_back(t->spec().name);
  }
  return out;
}

absl::StatusOr<EvalReport> RunEvaluation(const EvalOptions& options) {
  if (options.tasks.empty()) return absl::InvalidArgumentError("evaluation: no tasks");
  if (options.episodes < 1) return absl::InvalidArgumentError("--episodes: want at least 1");
  if (options.parallel < 1) return absl::InvalidArgumentError("--parallel: want at least 1");
  const action::Embodiment e = options.episode.driver.embodiment;
  const std::vector<std::string> can = TasksFor(e);
  for (const std::string& t : options.tasks) {
    if (sim::FindTask(t) == nullptr) return absl::InvalidArgumentError(absl::StrCat("--task: unknown task '", t, "'"));
    if (std::find(can.begin(), can.end(), t) == can.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--task: ", std::string(action::EmbodimentName(e)), " cannot do '", t, "' (it can do: ", absl::StrJoin(can, ", "), ")"));
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  const int per = options.episodes;
  const int total = static_cast<int>(options.tasks.size()) * per;
  std::vector<absl::StatusOr<EpisodeResult>> results(total, absl::UnknownError("not run"));
  std::atomic<int> next{0};
  absl::Mutex progress_mu;
  int done = 0;
  auto worker = [&](int slot) {
    for (int job = next++; job < total; job = next++) {
      const int task = job / per, i = job % per;
      SimEpisodeOptions o = options.episode;
      o.driver.task = options.tasks[task];
      o.driver.seed = options.seed + i;
      o.record_trace = i < options.traced_episodes;
      o.sample_frames = i == 0 ? options.sampled_frames : 0;
      o.driver.render = true;
      if (options.parallel > 1) o.client.robot_id = absl::StrCat(options.episode.client.robot_id, "-", slot);
      results[job] = options.run_episode ? options.run_episode(o) : RunSimEpisode(o);
      absl::MutexLock l(&progress_mu);
      ++done;
      if (options.progress) options.progress(done, total);
    }
  };
  std::vector<std::thread> threads;
  for (int p = 0; p < std::min(options.parallel, total); ++p) threads.emplace_back(worker, p);
  for (std::thread& t : threads) t.join();
  EvalReport report;
  for (size_t task = 0; task < options.tasks.size(); ++task) {
    TaskReport tr;
    tr.task = options.tasks[task];
    double time_sum = 0.0, completeness_sum = 0.0;
    for (int i = 0; i < per; ++i) {
      absl::StatusOr<EpisodeResult>& r = results[task * per + i];
      if (!r.ok()) {
        EpisodeResult failed;
        failed.task = tr.task;
        failed.embodiment = e;
        failed.seed = options.seed + i;
        failed.error = r.status().ToString();
        ++tr.errors;
        tr.results.push_back(std::move(failed));
        continue;
      }
      ++tr.episodes;
      completeness_sum += r->completeness;
      if (r->success) {
        ++tr.successes;
        time_sum += r->time_to_success_s;
      }
      tr.results.push_back(std::move(*r));
    }
    if (tr.episodes > 0) {
      tr.success_rate = static_cast<double>(tr.successes) / tr.episodes;
      tr.completeness = completeness_sum / tr.episodes;
    }
    if (tr.successes > 0) tr.mean_time_to_success_s = time_sum / tr.successes;
    report.episodes += tr.episodes;
    report.errors += tr.errors;
    report.tasks.push_back(std::move(tr));
  }
  report.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace mivla::client
