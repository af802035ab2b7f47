// ModelManager's success-gated rollout (model_manager.h): session assignment, episode outcomes, the
// test's and the operator's decisions, pinning and the status snapshot. Loading and scanning are in
// model_manager.cc.
#include <fstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/util/log.h"
#include "server/model_manager/checkpoint_dir.h"
#include "server/model_manager/model_manager.h"

namespace mivla::server {
namespace {

constexpr char kComponent[] = "rollout";

std::string Tally(const VersionStatus& v) {
  return absl::StrCat(v.version, " [", v.checkpoint.empty() ? "random init" : v.checkpoint, "] ",
                      v.counts.successes, "/", v.counts.episodes, " episodes succeeded (", v.counts.sessions,
                      " sessions)");
}

}  // namespace

struct ModelManager::Decided {
  RolloutDecisionRecord record;
  Served retired;                       // the old incumbent or the rolled-back canary (released last)
  std::optional<CheckpointId> reject;   // the rolled-back canary's file
  std::optional<CheckpointId> promote;  // the promoted canary's file
  std::string promoted_path;
  absl::Duration took;
};

namespace {
VersionStatus StatusOf(const std::shared_ptr<const PolicyRuntime>& rt, const std::string& path, const ArmCounts& c) {
  return VersionStatus{rt ? rt->info().version : "", BaseName(path), c};
}
}  // namespace

ModelManager::SessionVersion ModelManager::ForNewSession() {
  absl::MutexLock lock(&mu_);
  SessionVersion v;
  v.runtime = incumbent_.runtime;
  v.sticky = canary_mode_;
  if (!v.runtime) return v;
  if (canary_.runtime && pin_.empty() && policy_.DrawCanary()) {
    v.runtime = canary_.runtime;
    v.canary = true;
    ++canary_.counts.sessions;
  } else {
    ++incumbent_.counts.sessions;
  }
  return v;
}

std::shared_ptr<const PolicyRuntime> ModelManager::EpisodeEnded(std::shared_ptr<const PolicyRuntime> held,
                                                                 bool success) {
  std::optional<Decided> decided;
  std::shared_ptr<const PolicyRuntime> next;
  {
    absl::MutexLock lock(&mu_);
    Served* arm = nullptr;
    if (held == nullptr || held == incumbent_.runtime) {
      arm = &incumbent_;
    } else if (canary_.runtime != nullptr && held == canary_.runtime) {
      arm = &canary_;
    }
    if (arm != nullptr) {
      ++arm->counts.episodes;
      if (success) ++arm->counts.successes;
    } else {
      ++retired_episodes_;
    }
    if (canary_.runtime && pin_.empty() && canary_mode_) {
      const RolloutJudgement j = policy_.Judge(canary_.counts, incumbent_.counts);
      if (j.verdict != RolloutVerdict::kPending) decided = Decide(j.verdict, /*by_operator=*/false, j.p_value);
    }
    // A session whose version was retired (now or earlier) moves to the incumbent at its episode's end.
    next = held;
    if (held != nullptr && held != incumbent_.runtime && held != canary_.runtime) next = incumbent_.runtime;
  }
  if (decided) Finish(*std::move(decided));
  return next;
}

ModelManager::Decided ModelManager::Decide(RolloutVerdict verdict, bool by_operator, double p_value) {
  Decided d;
  d.record.verdict = verdict;
  d.record.by_operator = by_operator;
  d.record.canary = StatusOf(canary_.runtime, canary_.path, canary_.counts);
  d.record.incumbent = StatusOf(incumbent_.runtime, incumbent_.path, incumbent_.counts);
  d.record.p_value = p_value;
  d.record.time = absl::Now();
  const CheckpointId canary_id = IdOf(canary_.path, canary_.state.size, canary_.state.mtime_ns);
  if (verdict == RolloutVerdict::kPromote) {
    d.promote = canary_id;
    d.promoted_path = canary_.path;
    d.took = canary_.took;
    d.retired = Install(std::move(canary_));
    ++(by_operator ? decisions_.promoted_by_operator : decisions_.promoted_by_test);
  } else {
    d.reject = canary_id;
    rejected_.push_back(canary_id);
    d.retired = std::move(canary_);
    ++(by_operator ? decisions_.rolled_back_by_operator : decisions_.rolled_back_by_test);
  }
  canary_ = Served{};
  last_decision_ = d.record;
  wake_ = true;  // the next newer checkpoint, if any, gets its trial
  return d;
}

void ModelManager::Finish(Decided d) {
  const RolloutDecisionRecord& r = d.record;
  const RolloutOptions& o = options_.rollout;
  std::string line = absl::StrFormat(
      "%s (%s) of canary %s vs incumbent %s; one-sided Fisher exact p = %.4g %s alpha %g", RolloutVerdictName(r.verdict),
      r.by_operator ? "operator" : "test", Tally(r.canary), Tally(r.incumbent), r.p_value,
      r.p_value < o.alpha ? "<" : ">=", o.alpha);
  if (d.promote) {
    absl::StrAppend(&line, "; ", r.canary.version, " now serves new sessions, sessions on ", r.incumbent.version,
                    " move to it when their episode ends");
    if (canary_mode_ && store_) {
      if (absl::Status s = store_->SetIncumbent(*d.promote, r.canary.version); !s.ok()) {
        absl::StrAppend(&line, "; NOT RECORDED: ", s.message());
      }
    }
    LogInfo(kComponent, line);
    if (options_.listener) options_.listener->OnModelLoaded(r.canary.version, d.promoted_path, d.took);
  } else {
    absl::StrAppend(&line, "; its sessions move to ", r.incumbent.version, " when their episode ends");
    if (store_ && !d.reject->file.empty()) {
      absl::Status s = store_->Reject(*d.reject, r.canary.version,
                                      absl::StrFormat("rolled back by %s: %d/%d vs %d/%d, p = %.4g",
                                                      r.by_operator ? "operator" : "test", r.canary.counts.successes,
                                                      r.canary.counts.episodes, r.incumbent.counts.successes,
                                                      r.incumbent.counts.episodes, r.p_value));
      absl::StrAppend(&line, s.ok() ? absl::StrCat("; ", d.reject->file, " marked rejected in ", store_->path())
                                    : absl::StrCat("; NOT MARKED REJECTED: ", s.message()));
    }
    LogWarning(kComponent, line);
  }
  // d.retired is released here, or later by the last session still on it.
}

absl::Status ModelManager::OperatorDecision(RolloutVerdict verdict) {
  Decided d;
  {
    absl::MutexLock lock(&mu_);
    if (!canary_.runtime) {
      return absl::FailedPreconditionError(absl::StrCat("no canary in trial: nothing to ", RolloutVerdictName(verdict)));
    }
    d = Decide(verdict, /*by_operator=*/true, policy_.Judge(canary_.counts, incumbent_.counts).p_value);
  }
  Finish(std::move(d));
  return absl::OkStatus();
}

absl::Status ModelManager::PromoteCanary() { return OperatorDecision(RolloutVerdict::kPromote); }
absl::Status ModelManager::RollbackCanary() { return OperatorDecision(RolloutVerdict::kRollback); }

absl::Status ModelManager::Pin(const std::string& version) {
  absl::MutexLock scan(&scan_mu_);
  return PinLocked(version);
}

void ModelManager::Unpin() {
  absl::MutexLock lock(&mu_);
  if (!pin_.empty()) LogInfo(kComponent, absl::StrCat("unpinned ", pin_, ": back to the configured mode"));
  pin_.clear();
  wake_ = true;
}

absl::Status ModelManager::PinLocked(const std::string& version) {
  // A loaded version: the incumbent (a trial in progress ends without a verdict) or the canary (promoted).
  std::string incumbent_path, canary_path;
  {
    std::optional<Decided> decided;
    Served released;  // the canary of a trial ended without a verdict (not rejected), released outside mu_
    bool pinned = false;
    {
      absl::MutexLock lock(&mu_);
      auto matches = [&version](const Served& s) {
        return s.runtime && (s.runtime->info().version == version || BaseName(s.path) == version);
      };
      if (matches(canary_)) {
        decided = Decide(RolloutVerdict::kPromote, /*by_operator=*/true,
                         policy_.Judge(canary_.counts, incumbent_.counts).p_value);
        pinned = true;
      } else if (matches(incumbent_)) {
        released = std::move(canary_);
        canary_ = Served{};
        pinned = true;
      }
      if (pinned) pin_ = version;
      incumbent_path = incumbent_.path;
      canary_path = canary_.path;
    }
    if (decided) Finish(*std::move(decided));
    if (pinned) {
      LogInfo(kComponent, absl::StrCat("pinned ", version, ": it alone serves new sessions; no reloads or canary trials"));
      return absl::OkStatus();
    }
  }
  // A file of that name, else the file whose checkpoint carries that version (each one is loaded to see).
  const std::vector<CheckpointFile> files = ListCheckpoints(options_.model_dir);
  std::vector<const CheckpointFile*> candidates;
  for (const CheckpointFile& c : files) {
    if (BaseName(c.path) == version) candidates.push_back(&c);
  }
  const bool by_name = !candidates.empty();
  for (const CheckpointFile& c : files) {
    if (!by_name && c.path != incumbent_path && c.path != canary_path) candidates.push_back(&c);
  }
  for (const CheckpointFile* c : candidates) {
    const FileState state{c->mtime_ns, c->size};
    auto s = LoadServed(c->path, state);
    if (!s.ok()) {
      if (by_name) return s.status();
      continue;
    }
    if (!by_name && s->runtime->info().version != version) continue;
    if (IsRejected(c->path, state)) {
      LogWarning(kComponent, absl::StrCat("pinning ", c->path, ", which an earlier canary trial rejected (operator's choice)"));
    }
    const std::string loaded = s->runtime->info().version;
    const absl::Duration took = s->took;
    Served old, old_canary;
    {
      absl::MutexLock lock(&mu_);
      old_canary = std::move(canary_);
      canary_ = Served{};
      old = Install(*std::move(s));
      pin_ = version;
    }
    if (canary_mode_ && store_) {
      if (absl::Status w = store_->SetIncumbent(IdOf(c->path, c->size, c->mtime_ns), loaded); !w.ok()) {
        LogError(kComponent, std::string(w.message()));
      }
    }
    LogInfo(kComponent, absl::StrCat("pinned ", version, ": serving ", loaded, " from ", c->path,
                                     " alone; no reloads or canary trials"));
    if (options_.listener) options_.listener->OnModelLoaded(loaded, c->path, took);
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no checkpoint in ", options_.model_dir, " has the file name or version '",
                                          version, "'"));
}

void ModelManager::RefreshPinFile() {
  const std::string& file = options_.rollout.pin_file;
  if (file.empty()) return;
  std::string text;
  if (std::ifstream in(file); in) std::getline(in, text);
  text = std::string(absl::StripAsciiWhitespace(text));
  if (text == pin_file_text_) return;  // acted on already
  pin_file_text_ = text;
  if (text.empty()) {
    Unpin();
    return;
  }
  if (absl::Status s = PinLocked(text); !s.ok()) {
    LogError(kComponent, absl::StrCat("--pin-file ", file, ": cannot pin '", text, "': ", s.message(),
                                      " (write the file again to retry)"));
  }
}

RolloutStatus ModelManager::rollout_status() const {
  RolloutStatus st;
  st.rejected_checkpoints = store_ ? store_->rejected_count() : 0;
  absl::MutexLock lock(&mu_);
  st.mode = !pin_.empty() ? "pinned" : canary_mode_ ? "canary" : "latest";
  if (incumbent_.runtime) st.incumbent = StatusOf(incumbent_.runtime, incumbent_.path, incumbent_.counts);
  if (canary_.runtime) st.canary = StatusOf(canary_.runtime, canary_.path, canary_.counts);
  st.options = policy_.options();
  st.pinned = pin_;
  st.last_decision = last_decision_;
  st.decisions = decisions_;
  st.retired_episodes = retired_episodes_;
  return st;
}

}  // namespace mivla::server
