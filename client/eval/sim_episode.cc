// File: sim_episode.cc
#include "client/eval/sim_episode.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace mivla::client {

absl::StatusOr<EpisodeResult> RunSimEpisode(const SimEpisodeOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<SimDriver> driver, SimDriver::Create(options.driver));
  ASSIGN_OR_RETURN(std::unique_ptr<PolicyConnection> conn, PolicyConnection::Create(options.connection));
  RobotClient::Options co = options.client;
  if (co.instruction.empty()) co.instruction = driver->instruction();
  if (co.task.empty()) co.task = options.driver.task;
  ASSIGN_OR_RETURN(std::unique_ptr<RobotClient> client,
                   RobotClient::Create(driver.get(), std::move(conn), options.metrics, co));
  RETURN_IF_ERROR(client->StartSession());
  EpisodeResult res;
  res.task = options.driver.task;
  res.embodiment = options.driver.embodiment;
  res.seed = options.driver.seed;
  res.instruction = co.instruction;
  const int64_t limit = options.max_steps > 0 ? options.max_steps : driver->step_limit();
  const int64_t frame_every =
      options.sample_frames > 0 ? std::max<int64_t>(1, limit / options.sample_frames) : 0;
  SimDriver* d = driver.get();
  if (options.operator_stop != nullptr) client->SetOperatorStop(options.operator_stop->load());
  absl::Status run = client->Run(limit, [&](const TickInfo& t) {
    if (options.operator_stop != nullptr) client->SetOperatorStop(options.operator_stop->load());
    if (options.record_trace) res.trace.push_back(d->TcpWorld());
    if (frame_every > 0 && t.tick % frame_every == 0 &&
        static_cast<int>(res.frames.size()) < options.sample_frames) {
      absl::StatusOr<RobotReading> r = d->Read(true);
      if (r.ok() && !r->images.empty()) res.frames.push_back(r->images[0]);
    }
    if (options.on_tick && !options.on_tick(t, *d)) return false;
    const SimOutcome o = d->outcome();
    return !(o.success && o.steps - o.success_step >= options.steps_after_success) && !o.diverged;
  });
  const SimOutcome o = d->outcome();
  res.success = o.success;
  res.completeness = o.completeness;
  res.steps = o.steps;
  if (o.success) res.time_to_success_s = (o.success_step + 1) * d->control_period_s();
  res.client = client->stats();
  res.safety = client->safety().stats();
  mivla::v1::ReportEpisodeRequest report;
  report.set_task(res.task);
  report.set_success(res.success);
  report.set_completeness(res.completeness);
  report.set_duration_s(o.steps * d->control_period_s());
  report.set_steps(o.steps);
  report.set_note(absl::StrCat("seed ", res.seed, o.diverged ? ", diverged" : ""));
  absl::Status fin = client->Finish(options.report ? &report : nullptr);
  if (!run.ok()) return run;
  if (!fin.ok() && options.report) return fin;
  if (options.after_run) RETURN_IF_ERROR(options.after_run(*d));
  res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace mivla::client
