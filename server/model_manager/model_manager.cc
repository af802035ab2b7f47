#include "server/model_manager/model_manager.h"

#include <filesystem>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/log.h"
#include "core/util/malloc_tuning.h"
#include "core/util/status_macros.h"
#include "core/util/thread_name.h"
#include "server/model_manager/checkpoint_dir.h"

namespace mivla::server {
namespace {
constexpr char kComponent[] = "model_manager";
}  // namespace

absl::StatusOr<std::unique_ptr<ModelManager>> ModelManager::Create(Options options) {
  if (options.model_dir.empty() && !options.random_init) {
    return absl::InvalidArgumentError("model manager: --model-dir is required unless --random-init is set");
  }
  if (!options.model_dir.empty() && !std::filesystem::is_directory(options.model_dir)) {
    return absl::NotFoundError(absl::StrCat("model manager: --model-dir '", options.model_dir,
                                            "' is not a directory"));
  }
  if (options.loader == nullptr) return absl::InvalidArgumentError("model manager: a runtime loader is required");
  if (options.warm_batch_size < 1) {
    return absl::InvalidArgumentError("model manager: warm_batch_size must be >= 1");
  }
  ASSIGN_OR_RETURN(RolloutPolicy policy, RolloutPolicy::Create(options.rollout));
  if (options.model_dir.empty() &&
      (policy.enabled() || !options.rollout.pin_version.empty() || !options.rollout.pin_file.empty())) {
    return absl::InvalidArgumentError("--canary-share, --pin-version and --pin-file need a --model-dir (not --random-init)");
  }
  std::unique_ptr<ModelManager> mm(new ModelManager(std::move(options), std::move(policy)));
  const RolloutOptions& r = mm->options_.rollout;
  if (!mm->options_.model_dir.empty()) {
    // Canary mode records decisions; other modes only honour the rejections recorded earlier.
    const std::string& dir = r.state_dir.empty() ? mm->options_.model_dir : r.state_dir;
    ASSIGN_OR_RETURN(mm->store_, RolloutStore::Open(dir, mm->options_.model_dir, /*writable=*/r.canary_share > 0));
  }
  return mm;
}

ModelManager::~ModelManager() { Stop(); }

absl::StatusOr<std::shared_ptr<const PolicyRuntime>> ModelManager::LoadAndWarm(const std::string& path) const {
  const RuntimeSource source = path.empty() ? RuntimeSource::RandomInit(options_.random_init_config, options_.random_init_seed)
                                            : RuntimeSource::Checkpoint(path);
  ASSIGN_OR_RETURN(std::unique_ptr<PolicyRuntime> loaded, options_.loader->Load(source));
  RETURN_IF_ERROR(loaded->Warm(options_.warm_batch_size));
  // Shared with a deleter that gives the freed pages back once the last call on this version lets go.
  return std::shared_ptr<const PolicyRuntime>(loaded.release(), [](const PolicyRuntime* r) {
    delete r;
    ReleaseFreeHeap();
  });
}

absl::StatusOr<ModelManager::Served> ModelManager::LoadServed(const std::string& path, FileState state) {
  const absl::Time t0 = absl::Now();
  auto m = LoadAndWarm(path);
  if (!m.ok()) {
    attempted_[path] = state;  // not tried again while unchanged
    LogError(kComponent, absl::StrCat("cannot serve ", path, ", keeping the serving version: ", m.status().ToString()));
    {
      absl::MutexLock lock(&mu_);
      ++reloads_failed_;
    }
    if (options_.listener) options_.listener->OnModelLoadFailed(path, m.status());
    return m.status();
  }
  Served s;
  s.runtime = *std::move(m);
  s.path = path;
  s.state = state;
  s.took = absl::Now() - t0;
  return s;
}

ModelManager::Served ModelManager::Install(Served next) {
  Served old = std::move(incumbent_);
  incumbent_ = std::move(next);
  incumbent_.counts = ArmCounts{};
  return old;  // released by the caller outside mu_ (or later, by the last call still holding it)
}

bool ModelManager::IsRejected(const std::string& path, FileState state) const {
  const CheckpointId id = IdOf(path, state.size, state.mtime_ns);
  {
    absl::MutexLock lock(&mu_);  // also when the state file could not be written
    for (const CheckpointId& r : rejected_) {
      if (r == id) return true;
    }
  }
  return store_ != nullptr && store_->IsRejected(id);
}

absl::Status ModelManager::Start() {
  absl::Status result = absl::OkStatus();
  if (options_.random_init) {
    absl::Time t0 = absl::Now();
    auto m = LoadAndWarm("");
    if (!m.ok()) return m.status();
    LogWarning(kComponent, absl::StrCat("serving a RANDOMLY INITIALISED model (", (*m)->info().version, " on ",
                                        (*m)->info().device, "): for tests and benchmarks only"));
    if (options_.listener) options_.listener->OnModelLoaded((*m)->info().version, "", absl::Now() - t0);
    Served s;
    s.runtime = *std::move(m);
    absl::MutexLock lock(&mu_);
    Install(std::move(s));
  } else {
    absl::MutexLock scan(&scan_mu_);
    const std::string& pin = options_.rollout.pin_version;
    if (!pin.empty()) {
      if (absl::Status s = PinLocked(pin); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("--pin-version ", pin, ": ", s.message()));
      }
    }
    RefreshPinFile();
    if (current() == nullptr && !StartFromDirectory()) {
      result = absl::NotFoundError(absl::StrCat("no loadable checkpoint (*", kCheckpointExtension, ") in ",
                                                options_.model_dir, "; waiting for one"));
    }
  }
  if (!options_.model_dir.empty() && !thread_.joinable()) {
    thread_ = StartNamedThread("model-poll", [this] { PollLoop(); });
  }
  return result;
}

bool ModelManager::StartFromDirectory() {
  const std::vector<CheckpointFile> files = ListCheckpoints(options_.model_dir);
  std::vector<const CheckpointFile*> order;
  // Canary mode: the last promoted version serves again (newer files get their trial afterwards).
  const std::optional<CheckpointId> recorded = canary_mode_ && store_ ? store_->incumbent() : std::nullopt;
  for (const CheckpointFile& c : files) {
    if (recorded && IdOf(c.path, c.size, c.mtime_ns) == *recorded) order.push_back(&c);
  }
  for (const CheckpointFile& c : files) {
    if (order.empty() || order.front() != &c) order.push_back(&c);
  }
  for (const CheckpointFile* c : order) {
    const FileState state{c->mtime_ns, c->size};
    if (IsRejected(c->path, state)) {
      LogInfo(kComponent, absl::StrCat("skipping ", c->path, ": rejected by an earlier canary trial (", store_->path(), ")"));
      attempted_[c->path] = state;
      continue;
    }
    auto s = LoadServed(c->path, state);
    if (!s.ok()) continue;
    const std::string version = s->runtime->info().version;
    LogInfo(kComponent, absl::StrCat("serving model version ", version, " from ", c->path, " on ", s->runtime->info().device,
                                     " (", absl::FormatDuration(s->took), ")"));
    const absl::Duration took = s->took;
    {
      absl::MutexLock lock(&mu_);
      Install(*std::move(s));
    }
    if (options_.listener) options_.listener->OnModelLoaded(version, c->path, took);
    if (canary_mode_) {
      if (absl::Status w = store_->SetIncumbent(IdOf(c->path, c->size, c->mtime_ns), version); !w.ok()) {
        LogError(kComponent, std::string(w.message()));
      }
    }
    return true;
  }
  return false;
}

void ModelManager::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ModelManager::RequestReload() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

void ModelManager::PollLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || wake_; };
      if (options_.poll_interval > absl::ZeroDuration()) {
        mu_.AwaitWithTimeout(absl::Condition(&woken), options_.poll_interval);
      } else {
        mu_.Await(absl::Condition(&woken));
      }
      if (stop_) return;
      wake_ = false;
    }
    PollOnce();
  }
}

bool ModelManager::PollOnce() {
  if (options_.model_dir.empty()) return false;
  absl::MutexLock scan(&scan_mu_);
  RefreshPinFile();
  std::tuple<int64_t, std::string> serving;
  {
    absl::MutexLock lock(&mu_);
    if (!pin_.empty() || canary_.runtime) return false;  // pinned, or one trial at a time
    serving = {incumbent_.state.mtime_ns, incumbent_.path};
  }
  const int64_t now_ns = absl::ToUnixNanos(absl::Now());
  for (const CheckpointFile& c : ListCheckpoints(options_.model_dir)) {
    if (std::tie(c.mtime_ns, c.path) <= serving) return false;  // nothing newer than the incumbent
    const FileState state{c.mtime_ns, c.size};
    auto it = attempted_.find(c.path);
    if (it != attempted_.end() && it->second == state) continue;  // already tried in this state
    if (now_ns - c.mtime_ns < absl::ToInt64Nanoseconds(options_.settle_time)) return false;  // still settling
    if (IsRejected(c.path, state)) {
      LogInfo(kComponent, absl::StrCat("skipping ", c.path, ": rejected by an earlier canary trial (", store_->path(), ")"));
      attempted_[c.path] = state;
      continue;
    }
    auto s = LoadServed(c.path, state);
    if (!s.ok()) continue;  // an older file that is still newer than the incumbent may load
    const std::string version = s->runtime->info().version;
    const absl::Duration took = s->took;
    if (canary_mode_) {
      std::string incumbent;
      {
        absl::MutexLock lock(&mu_);
        canary_ = *std::move(s);
        canary_.counts = ArmCounts{};
        incumbent_.counts = ArmCounts{};  // the trial compares episodes of the same period
        incumbent = incumbent_.runtime ? incumbent_.runtime->info().version : "";
      }
      const RolloutOptions& r = options_.rollout;
      LogInfo(kComponent, absl::StrCat("canary trial: ", version, " from ", c.path, " (loaded and warmed in ",
                                       absl::FormatDuration(took), ") serves ", r.canary_share,
                                       " of new sessions beside incumbent ", incumbent, "; decided after ",
                                       r.min_episodes, " episodes of each (one-sided Fisher exact test, alpha ",
                                       r.alpha, ")"));
      return true;
    }
    Served old;
    {
      absl::MutexLock lock(&mu_);
      old = Install(*std::move(s));
      ++reloads_ok_;
    }
    LogInfo(kComponent, absl::StrCat("hot reload: now serving ", version, " from ", c.path, " on ",
                                     current()->info().device, " (", absl::FormatDuration(took), ")"));
    if (options_.listener) options_.listener->OnModelLoaded(version, c.path, took);
    return true;
  }
  return false;
}

std::shared_ptr<const PolicyRuntime> ModelManager::current() const {
  absl::MutexLock lock(&mu_);
  return incumbent_.runtime;
}

int64_t ModelManager::reloads_ok() const {
  absl::MutexLock lock(&mu_);
  return reloads_ok_;
}

int64_t ModelManager::reloads_failed() const {
  absl::MutexLock lock(&mu_);
  return reloads_failed_;
}

}  // namespace mivla::server
