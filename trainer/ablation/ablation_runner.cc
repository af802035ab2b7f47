// File: ablation_runner.cc
#include "trainer/ablation/ablation_runner.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"
#include "trainer/ablation/ablation_report.h"
#include "trainer/ablation/child_process.h"
#include "trainer/ablation/eta.h"
#include "trainer/ablation/stage_exec.h"
#include "trainer/ablation/stage_store.h"

namespace mivla::trainer::ablation {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct StageState {
  std::string status;   // done, pending, stale, running, partial, failed, excluded
  double seconds = 0;   // over every call
  double fraction = 0;  // running / partial
  std::string detail;
  json result = json::object();
};

class Runner {
 public:
  Runner(const AblationConfig& c, const Plan& p, const RunnerOptions& o)
      : config_(c), plan_(p), o_(o), store_(p.output_dir), t0_(Clock::now()) {
    tty_ = o.tty >= 0 ? o.tty == 1 : isatty(fileno(o.out)) != 0;
  }

  absl::StatusOr<RunnerOutcome> Run();

 private:
  bool Selected(const Stage& s) const {
    return o_.only.empty() || fnmatch(o_.only.c_str(), s.name.c_str(), 0) == 0;
  }
  bool ShouldStop() const {
    if (o_.interrupted != nullptr && o_.interrupted->load()) return true;
    return o_.budget_s > 0 && Since(t0_) >= o_.budget_s;
  }
  std::optional<double> OverallRemaining(int* unknown) const;
  void Line(const std::string& s, bool newline = true);
  void Status(size_t index, bool force);
  void WriteProgress(const std::string& status);
  absl::Status RunOne(size_t index, bool* stopped);

  const AblationConfig& config_;
  const Plan& plan_;
  const RunnerOptions& o_;
  StageStore store_;
  Clock::time_point t0_, stage_t0_, last_status_ = Clock::now() - std::chrono::hours(1);
  Clock::time_point last_progress_write_ = Clock::now() - std::chrono::hours(1);
  std::vector<StageState> state_;
  EtaModel eta_;
  bool tty_ = false, drawn_ = false;
};

std::optional<double> Runner::OverallRemaining(int* unknown) const {
  double total = 0;
  *unknown = 0;
  for (size_t i = 0; i < plan_.stages.size(); ++i) {
    const StageState& st = state_[i];
    if (st.status == "done" || st.status == "excluded") continue;
    std::optional<double> r = eta_.Remaining(plan_.stages[i], st.fraction);
    if (r) {
      total += *r;
    } else {
      *unknown += 1;
    }
  }
  return total;
}

void Runner::Line(const std::string& s, bool newline) {
  if (tty_ && drawn_) std::fprintf(o_.out, "\r\033[K");
  drawn_ = false;
  std::fprintf(o_.out, "%s%s", s.c_str(), newline ? "\n" : "");
  std::fflush(o_.out);
}

void Runner::Status(size_t index, bool force) {
  const double every = tty_ ? 1.0 : o_.status_every_s;
  if (!force && Since(last_status_) < every) return;
  last_status_ = Clock::now();
  const Stage& s = plan_.stages[index];
  const StageState& st = state_[index];
  const double elapsed = Since(stage_t0_);
  std::optional<double> stage_left = eta_.Remaining(s, st.fraction);
  if (s.kind == StageKind::kEval && stage_left) stage_left = std::max(0.0, *stage_left - elapsed);
  int unknown = 0;
  std::optional<double> all = OverallRemaining(&unknown);
  std::string line = absl::StrCat("[", index + 1, "/", plan_.stages.size(), "] ", s.name, "  ", st.detail,
                                  st.fraction > 0 ? absl::StrCat("  ", static_cast<int>(st.fraction * 100), "%") : "",
                                  "  elapsed ", FormatSeconds(elapsed), "  stage ETA ",
                                  stage_left ? FormatSeconds(*stage_left) : std::string("?"), "  overall ETA ",
                                  FormatSeconds(*all), unknown > 0 ? absl::StrCat(" + ", unknown, " not estimated") : "");
  if (o_.budget_s > 0) line += absl::StrCat("  budget left ", FormatSeconds(std::max(0.0, o_.budget_s - Since(t0_))));
  if (tty_) {
    Line(line, false);
    drawn_ = true;
  } else {
    Line(line);
  }
}

void Runner::WriteProgress(const std::string& status) {
  json stages = json::array();
  for (size_t i = 0; i < plan_.stages.size(); ++i) {
    const Stage& s = plan_.stages[i];
    const StageState& st = state_[i];
    json j = {{"name", s.name}, {"kind", StageKindName(s.kind)}, {"status", st.status}, {"seconds", st.seconds},
              {"log", s.log_path}};
    if (st.status == "running" || st.status == "partial") j["fraction"] = st.fraction;
    if (st.status != "done" && st.status != "excluded") {
      std::optional<double> r = eta_.Remaining(s, st.fraction);
      j["eta_s"] = r ? json(*r) : json();
    }
    if (!st.result.empty()) j["result"] = st.result;
    stages.push_back(j);
  }
  int unknown = 0;
  std::optional<double> all = OverallRemaining(&unknown);
  const json p = {{"config", config_.path}, {"output_dir", plan_.output_dir}, {"status", status},
                  {"updated_at", UtcNow()}, {"call_elapsed_s", Since(t0_)},
                  {"budget_s", o_.budget_s > 0 ? json(o_.budget_s) : json()}, {"only", o_.only},
                  {"eta_s", *all}, {"stages_not_estimated", unknown}, {"stages", stages}};
  absl::Status s = WriteFileAtomic((fs::path(plan_.output_dir) / "progress.json").string(), p.dump(2) + "\n");
  if (!s.ok()) Line(absl::StrCat("warning: ", s.message()));
  last_progress_write_ = Clock::now();
}

absl::Status Runner::RunOne(size_t index, bool* stopped) {
  const Stage& s = plan_.stages[index];
  StageState& st = state_[index];
  for (const std::string& dep : s.deps) {
    for (size_t j = 0; j < index; ++j) {
      if (plan_.stages[j].name == dep && state_[j].status != "done") {
        return absl::FailedPreconditionError(absl::StrCat(
            "stage ", s.name, " needs ", dep, ", which is not done",
            state_[j].status == "excluded" ? " (outside --only; run it first or widen --only)" : ""));
      }
    }
  }
  const double before = store_.PartialSeconds(s.name, s.spec_hash);
  st.status = "running";
  st.detail = before > 0 ? "resuming" : "starting";
  stage_t0_ = Clock::now();
  Line(absl::StrCat("[", index + 1, "/", plan_.stages.size(), "] ", s.name, ": ",
                    before > 0 ? absl::StrCat("continuing (", FormatSeconds(before), " spent before)") : "starting",
                    s.argv.empty() ? "" : absl::StrCat("; log ", s.log_path)));
  WriteProgress("running");
  ExecResult result;
  if (s.kind == StageKind::kReport) {
    ASSIGN_OR_RETURN(result.result, WriteReport(config_, plan_, store_));
  } else {
    ExecOptions eo;
    eo.should_stop = [this] { return ShouldStop(); };
    eo.stop_grace_s = config_.stop_grace_s;
    eo.server_start_timeout_s = config_.eval.server_start_timeout_s;
    eo.on_progress = [&](double fraction, const std::string& detail) {
      st.fraction = fraction < 0 ? 0 : std::min(1.0, fraction);
      st.detail = detail;
      st.seconds = before + Since(stage_t0_);
      eta_.SetRunning(s, st.fraction, st.seconds);  // both over every call (a resumed stage's too)
      Status(index, false);
      if (Since(last_progress_write_) >= 10) WriteProgress("running");
    };
    absl::StatusOr<ExecResult> r = RunStage(s, eo);
    eta_.ClearRunning();
    st.seconds = before + Since(stage_t0_);
    if (!r.ok()) {
      st.status = "failed";
      store_.SavePartial(s.name, s.spec_hash, st.seconds).IgnoreError();
      WriteProgress("failed");
      return r.status();
    }
    result = *r;
  }
  st.seconds = before + Since(stage_t0_);
  if (result.outcome == ExecOutcome::kStopped) {
    st.status = "partial";
    RETURN_IF_ERROR(store_.SavePartial(s.name, s.spec_hash, st.seconds));
    Line(absl::StrCat("[", index + 1, "/", plan_.stages.size(), "] ", s.name, ": stopped after ",
                      FormatSeconds(Since(stage_t0_)), " (", st.detail, "); the next call continues it"));
    *stopped = true;
    return absl::OkStatus();
  }
  StageRecord rec;
  rec.stage = s.name;
  rec.spec_hash = s.spec_hash;
  rec.seconds = st.seconds;
  rec.result = result.result;
  RETURN_IF_ERROR(store_.MarkDone(rec));
  store_.ClearPartial(s.name);
  st.status = "done";
  st.fraction = 1;
  st.result = result.result;
  eta_.AddFinished(s, st.seconds);
  Line(absl::StrCat("[", index + 1, "/", plan_.stages.size(), "] ", s.name, ": done in ", FormatSeconds(st.seconds)));
  return absl::OkStatus();
}

absl::StatusOr<RunnerOutcome> Runner::Run() {
  RunnerOutcome out;
  state_.resize(plan_.stages.size());
  for (size_t i = 0; i < plan_.stages.size(); ++i) {
    const Stage& s = plan_.stages[i];
    StageState& st = state_[i];
    std::optional<StageRecord> rec = store_.Done(s.name);
    if (rec && rec->spec_hash == s.spec_hash) {
      st.status = "done";
      st.seconds = rec->seconds;
      st.result = rec->result;
      eta_.AddFinished(s, rec->seconds);
    } else {
      st.status = rec ? "stale" : "pending";
      st.seconds = store_.PartialSeconds(s.name, s.spec_hash);
      if (st.seconds > 0) st.status = "partial";
      if (s.kind == StageKind::kPretrain || s.kind == StageKind::kFinetune) {
        const int64_t step = LastLoggedStep(s.dir);
        if (step > 0 && s.units > 0) st.fraction = std::min(1.0, static_cast<double>(step) / s.units);
      }
    }
    if (st.status != "done" && !Selected(s)) st.status = "excluded";
  }
  if (o_.dry_run) {
    int unknown = 0;
    std::optional<double> all = OverallRemaining(&unknown);
    for (size_t i = 0; i < plan_.stages.size(); ++i) {
      const Stage& s = plan_.stages[i];
      Line(absl::StrCat(absl::StrFormat("%-34s %-9s", s.name, state_[i].status),
                        s.argv.empty() ? "" : CommandLine(s.argv),
                        s.eval_argv.empty() ? "" : absl::StrCat("\n", std::string(45, ' '), CommandLine(s.eval_argv))));
      if (state_[i].status != "done" && state_[i].status != "excluded") out.left.push_back(s.name);
    }
    Line(absl::StrCat(out.left.size(), " stages left; ETA ", FormatSeconds(*all),
                      unknown > 0 ? absl::StrCat(" + ", unknown, " stages not estimated yet") : ""));
    return out;
  }

  std::error_code ec;
  fs::create_directories(plan_.output_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(plan_.output_dir, ": cannot create: ", ec.message()));
  const std::string lock_path = (fs::path(plan_.output_dir) / ".lock").string();
  const int lock = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
    if (lock >= 0) close(lock);
    return absl::FailedPreconditionError(
        absl::StrCat("another mivla-train ablation is running on ", plan_.output_dir, " (", lock_path, " is locked)"));
  }
  absl::Status status;
  bool stopped = false;
  for (size_t i = 0; i < plan_.stages.size() && status.ok() && !stopped; ++i) {
    // The report is redone whenever a stage finished in this call (e.g. a cell whose marker was
    // removed by hand), so it never lags behind the markers.
    const bool refresh_report = plan_.stages[i].kind == StageKind::kReport && out.done_now > 0;
    if (state_[i].status == "done" && !refresh_report) {
      ++out.done_before;
      continue;
    }
    if (state_[i].status == "excluded") continue;
    if (ShouldStop()) {
      stopped = true;
      break;
    }
    status = RunOne(i, &stopped);
    if (status.ok() && state_[i].status == "done") ++out.done_now;
  }
  for (size_t i = 0; i < plan_.stages.size(); ++i) {
    if (state_[i].status != "done" && state_[i].status != "excluded") out.left.push_back(plan_.stages[i].name);
  }
  out.stopped = stopped && !out.left.empty();
  WriteProgress(!status.ok() ? "failed" : out.left.empty() ? "done" : "stopped");
  close(lock);
  if (!status.ok()) return status;
  int unknown = 0;
  std::optional<double> all = OverallRemaining(&unknown);
  Line(absl::StrCat(out.done_before, " stages were done before, ", out.done_now, " done now, ", out.left.size(),
                    " left", out.left.empty() ? "" : absl::StrCat(" (ETA ", FormatSeconds(*all),
                    unknown > 0 ? absl::StrCat(" + ", unknown, " stages not estimated") : "", "): ",
                    absl::StrJoin(out.left, " ")),
                    out.stopped ? (ShouldStop() && o_.budget_s > 0 && Since(t0_) >= o_.budget_s
                                       ? "; budget spent, run the same command again to continue"
                                       : "; stopped, run the same command again to continue")
                                : ""));
  return out;
}

}  // namespace

absl::StatusOr<RunnerOutcome> RunAblation(const AblationConfig& config, const Plan& plan, const RunnerOptions& options) {
  Runner r(config, plan, options);
  return r.Run();
}

}  // namespace mivla::trainer::ablation
