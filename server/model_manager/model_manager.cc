#include "server/model_manager/model_manager.h"

#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/util/log.h"
#include "core/util/status_macros.h"

namespace mivla::server {
namespace {

constexpr char kComponent[] = "model_manager";
constexpr char kExtension[] = ".mivla";

struct Candidate {
  std::string path;
  int64_t mtime_ns = 0;
  int64_t size = 0;
};

// Checkpoint files in `dir`, newest first (modification time, then name).
std::vector<Candidate> ListCheckpoints(const std::string& dir) {
  std::vector<Candidate> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || !absl::EndsWith(name, kExtension)) continue;
    struct stat st;
    if (::stat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back({entry.path().string(),
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                   static_cast<int64_t>(st.st_size)});
  }
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.mtime_ns, a.path) > std::tie(b.mtime_ns, b.path);
  });
  return out;
}

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
  return std::unique_ptr<ModelManager>(new ModelManager(std::move(options)));
}

ModelManager::~ModelManager() { Stop(); }

absl::StatusOr<std::shared_ptr<const PolicyRuntime>> ModelManager::LoadAndWarm(const std::string& path) const {
  const RuntimeSource source = path.empty() ? RuntimeSource::RandomInit(options_.random_init_config, options_.random_init_seed)
                                            : RuntimeSource::Checkpoint(path);
  ASSIGN_OR_RETURN(std::unique_ptr<PolicyRuntime> loaded, options_.loader->Load(source));
  RETURN_IF_ERROR(loaded->Warm(options_.warm_batch_size));
  // Shared with a deleter that trims the heap once the last call on this version lets go.
  return std::shared_ptr<const PolicyRuntime>(loaded.release(), [](const PolicyRuntime* r) {
    delete r;
    ::malloc_trim(0);
  });
}

void ModelManager::Swap(std::shared_ptr<const PolicyRuntime> next, const std::string& path, FileState state) {
  std::shared_ptr<const PolicyRuntime> old;
  {
    absl::MutexLock lock(&mu_);
    old = std::move(current_);
    current_ = std::move(next);
    current_path_ = path;
    current_state_ = state;
  }
  // `old` is released here (or later, by the last call still holding it).
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
    Swap(*std::move(m), "", FileState{});
  } else {
    absl::MutexLock scan(&scan_mu_);
    bool loaded = false;
    for (const Candidate& c : ListCheckpoints(options_.model_dir)) {
      absl::Time t0 = absl::Now();
      auto m = LoadAndWarm(c.path);
      attempted_[c.path] = FileState{c.mtime_ns, c.size};
      if (!m.ok()) {
        LogError(kComponent, absl::StrCat("cannot serve ", c.path, ": ", m.status().ToString()));
        {
          absl::MutexLock lock(&mu_);
          ++reloads_failed_;
        }
        if (options_.listener) options_.listener->OnModelLoadFailed(c.path, m.status());
        continue;
      }
      LogInfo(kComponent, absl::StrCat("serving model version ", (*m)->info().version, " from ", c.path, " on ",
                                       (*m)->info().device, " (", absl::FormatDuration(absl::Now() - t0), ")"));
      if (options_.listener) options_.listener->OnModelLoaded((*m)->info().version, c.path, absl::Now() - t0);
      Swap(*std::move(m), c.path, FileState{c.mtime_ns, c.size});
      loaded = true;
      break;
    }
    if (!loaded) {
      result = absl::NotFoundError(absl::StrCat("no loadable checkpoint (*", kExtension, ") in ",
                                                options_.model_dir, "; waiting for one"));
    }
  }
  if (!options_.model_dir.empty() && !thread_.joinable()) {
    thread_ = std::thread([this] { PollLoop(); });
  }
  return result;
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
  std::tuple<int64_t, std::string> serving;
  {
    absl::MutexLock lock(&mu_);
    serving = {current_state_.mtime_ns, current_path_};
  }
  const int64_t now_ns = absl::ToUnixNanos(absl::Now());
  for (const Candidate& c : ListCheckpoints(options_.model_dir)) {
    if (std::tie(c.mtime_ns, c.path) <= serving) return false;  // nothing newer than what serves
    const FileState state{c.mtime_ns, c.size};
    auto it = attempted_.find(c.path);
    if (it != attempted_.end() && it->second == state) continue;  // already tried in this state
    if (now_ns - c.mtime_ns < absl::ToInt64Nanoseconds(options_.settle_time)) return false;  // still settling
    attempted_[c.path] = state;
    absl::Time t0 = absl::Now();
    auto m = LoadAndWarm(c.path);
    if (!m.ok()) {
      LogError(kComponent, absl::StrCat("reload failed, keeping the serving version: ", m.status().ToString()));
      {
        absl::MutexLock lock(&mu_);
        ++reloads_failed_;
      }
      if (options_.listener) options_.listener->OnModelLoadFailed(c.path, m.status());
      continue;  // an older file that is still newer than the serving one may load
    }
    const absl::Duration took = absl::Now() - t0;
    LogInfo(kComponent, absl::StrCat("hot reload: now serving ", (*m)->info().version, " from ", c.path, " on ",
                                     (*m)->info().device, " (", absl::FormatDuration(took), ")"));
    if (options_.listener) options_.listener->OnModelLoaded((*m)->info().version, c.path, took);
    Swap(*std::move(m), c.path, state);
    {
      absl::MutexLock lock(&mu_);
      ++reloads_ok_;
    }
    return true;
  }
  return false;
}

std::shared_ptr<const PolicyRuntime> ModelManager::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
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
