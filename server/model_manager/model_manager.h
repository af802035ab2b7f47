// File: model_manager.h
// ModelManager: which model version serves (version policy, hot reload and success-gated rollout; how a
// version is built is the RuntimeLoader's business, server/runtime_api/runtime_loader.h). It loads
// checkpoints from a model directory (one `*.mivla` file per version, checkpoint_dir.h), warms each new
// PolicyRuntime beside the serving one and swaps it in atomically. Callers take a
// std::shared_ptr<const PolicyRuntime> per call (or per session, below), so in-flight and queued calls
// finish on the version they started with; an old version's memory is released (and the heap trimmed)
// when its last holder lets go. A checkpoint that fails to load, validate or warm leaves the serving
// version in place and is reported (log line, Listener) once per file state: a file is tried again only
// when its size or modification time changes. Files younger than `settle_time` wait for the next poll.
//
// Modes (RolloutOptions, rollout_policy.h):
//   latest: the newest loadable checkpoint serves; sessions follow current() (today's hot reload).
//   canary (canary_share > 0): a newer checkpoint is loaded and warmed BESIDE the incumbent and tried
//     as a canary: ForNewSession() draws each new session for it with probability canary_share, and the
//     session keeps that version (sticky) while it stays live. EpisodeEnded() counts outcomes per
//     version; the trial ends by RolloutPolicy's test (or PromoteCanary / RollbackCanary): promoted, the
//     canary becomes the incumbent; rolled back, its file is recorded rejected (rollout_store.h) and never
//     loaded again, across restarts. One trial at a time: files that arrive meanwhile wait, and the
//     newest non-rejected file newer than the incumbent is tried next. After a restart the recorded
//     incumbent serves again and the trial restarts from zero counts.
//   pinned (Pin, --pin-version, --pin-file): only the pinned version serves; no reloads, no trials.
// A session on a retired version (the old incumbent after a promotion or pin, the canary after a
// rollback or pin) keeps it until its episode ends: EpisodeEnded() then moves it to the incumbent, so
// no episode mixes two versions. Rejected files are skipped in every mode.
//
//   ModelManager::Options o;
//   o.model_dir = "/models"; o.loader = loader; o.rollout.canary_share = 0.2;
//   ASSIGN_OR_RETURN(std::unique_ptr<ModelManager> mm, ModelManager::Create(o));
//   RETURN_IF_ERROR(mm->Start());                       // first load + poll thread
//   ModelManager::SessionVersion v = mm->ForNewSession();  // at StartSession
//   held = mm->EpisodeEnded(held, success);             // at ReportEpisode
//
// Thread-safety: every public method may be called from any thread. Lock order: scan_mu_, then mu_;
// the store's lock is a leaf. Listener calls and file writes happen outside mu_.
#ifndef MIVLA_SERVER_MODEL_MANAGER_MODEL_MANAGER_H_
#define MIVLA_SERVER_MODEL_MANAGER_MODEL_MANAGER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/model_manager/rollout_policy.h"
#include "server/model_manager/rollout_status.h"
#include "server/model_manager/rollout_store.h"
#include "server/runtime_api/policy_runtime.h"
#include "server/runtime_api/runtime_loader.h"

namespace mivla::server {

class ModelManager {
 public:
  /// Events, called on the manager's thread (or the caller's). Must be thread-safe and quick.
  class Listener {
   public:
    virtual ~Listener() = default;
    /// A version became the incumbent (first load, hot reload, promotion, pin).
    virtual void OnModelLoaded(const std::string& version, const std::string& path, absl::Duration took) {}
    virtual void OnModelLoadFailed(const std::string& path, const absl::Status& why) {}
  };

  struct Options {
    std::string model_dir;                     // may be empty only with random_init
    absl::Duration poll_interval = absl::Seconds(2);  // <= 0: no polling (RequestReload only)
    absl::Duration settle_time = absl::Milliseconds(500);
    bool random_init = false;                  // serve a randomly initialised model (tests, benchmarks)
    std::string random_init_config = "tiny";   // its configuration name
    uint64_t random_init_seed = 1;
    int warm_batch_size = 8;
    std::shared_ptr<const RuntimeLoader> loader;  // required: builds each version
    Listener* listener = nullptr;              // optional, borrowed
    RolloutOptions rollout;                    // latest mode by default
  };

  /// INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION naming the option (flag) that is wrong, e.g. a
  /// canary mode whose state directory cannot be written or a rollout state file that is not JSON.
  static absl::StatusOr<std::unique_ptr<ModelManager>> Create(Options options);
  ~ModelManager();
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  /// Loads the random-init model, the pinned version, the recorded incumbent (canary mode) or the newest
  /// loadable non-rejected checkpoint, then starts polling. NOT_FOUND when nothing loads (the poll thread
  /// runs regardless); INVALID_ARGUMENT when --pin-version names no checkpoint.
  absl::Status Start();
  void Stop();           // stops polling and joins the thread; idempotent
  void RequestReload();  // wakes the poll thread for an immediate scan (SIGHUP)
  /// One scan on the caller's thread (re-reads the pin file first); true when a version was swapped in
  /// or a canary trial started.
  bool PollOnce();

  /// The incumbent: what new sessions get unless drawn for a canary; null until a version is loaded.
  std::shared_ptr<const PolicyRuntime> current() const;
  int64_t reloads_ok() const;
  int64_t reloads_failed() const;

  struct SessionVersion {
    std::shared_ptr<const PolicyRuntime> runtime;  // null until a version is loaded
    bool sticky = false;  // canary mode: the session keeps `runtime`; else it follows current()
    bool canary = false;
  };
  /// The version for a new session (draws for the canary while one is in trial).
  SessionVersion ForNewSession();
  /// Counts an episode's outcome for `held`'s version (null: the incumbent), which may end the trial
  /// (then logs the decision and writes the state file on the caller's thread). Returns the version the
  /// session goes on with: `held` while it is the incumbent or canary, else the incumbent.
  std::shared_ptr<const PolicyRuntime> EpisodeEnded(std::shared_ptr<const PolicyRuntime> held, bool success);

  /// Operator decisions on the canary in trial; FAILED_PRECONDITION when none is.
  absl::Status PromoteCanary();
  absl::Status RollbackCanary();
  /// Serves only the checkpoint whose version or file name is `version` (loading it when needed; a
  /// rejected file too, the operator decides) and stops reloads and trials. NOT_FOUND when none matches.
  absl::Status Pin(const std::string& version);
  void Unpin();  // back to the configured mode at the next scan

  RolloutStatus rollout_status() const;

 private:
  struct FileState {
    int64_t mtime_ns = 0;
    int64_t size = 0;
    bool operator==(const FileState& o) const { return mtime_ns == o.mtime_ns && size == o.size; }
  };
  struct Served {  // one loaded version
    std::shared_ptr<const PolicyRuntime> runtime;
    std::string path;
    FileState state;
    absl::Duration took;
    ArmCounts counts;
  };
  struct Decided;  // a decision applied under mu_, finished outside it

  ModelManager(Options options, RolloutPolicy policy)
      : options_(std::move(options)), canary_mode_(policy.enabled()), policy_(std::move(policy)) {}
  absl::StatusOr<std::shared_ptr<const PolicyRuntime>> LoadAndWarm(const std::string& path) const;
  absl::StatusOr<Served> LoadServed(const std::string& path, FileState state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  /// Makes `next` the incumbent (the canary, if any, retired); returns the old one for release outside mu_.
  Served Install(Served next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool StartFromDirectory() ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  bool IsRejected(const std::string& path, FileState state) const;
  absl::Status PinLocked(const std::string& version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  void RefreshPinFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(scan_mu_);
  Decided Decide(RolloutVerdict verdict, bool by_operator, double p_value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finish(Decided decided);
  absl::Status OperatorDecision(RolloutVerdict verdict);
  void PollLoop();

  const Options options_;
  const bool canary_mode_;               // options_.rollout.canary_share > 0
  std::unique_ptr<RolloutStore> store_;  // set by Create when there is a model directory; then const
  mutable absl::Mutex mu_;
  RolloutPolicy policy_ ABSL_GUARDED_BY(mu_);
  Served incumbent_ ABSL_GUARDED_BY(mu_);
  Served canary_ ABSL_GUARDED_BY(mu_);  // runtime null: no trial
  std::string pin_ ABSL_GUARDED_BY(mu_);
  std::optional<RolloutDecisionRecord> last_decision_ ABSL_GUARDED_BY(mu_);
  RolloutDecisionCounts decisions_ ABSL_GUARDED_BY(mu_);
  int64_t retired_episodes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<CheckpointId> rejected_ ABSL_GUARDED_BY(mu_);  // rolled back by this process
  int64_t reloads_ok_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reloads_failed_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex scan_mu_;  // one scan (or pin) at a time
  std::map<std::string, FileState> attempted_ ABSL_GUARDED_BY(scan_mu_);
  std::string pin_file_text_ ABSL_GUARDED_BY(scan_mu_);  // last content read from the pin file
  std::thread thread_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_MODEL_MANAGER_MODEL_MANAGER_H_
