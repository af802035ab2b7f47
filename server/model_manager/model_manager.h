// File: model_manager.h
// ModelManager: which model version serves (version policy and hot reload; how a version is built is
// the RuntimeLoader's business, server/runtime_api/runtime_loader.h). It loads checkpoints from a model
// directory (one `*.mivla` file per version; the newest file by modification time wins; dot-files such
// as the checkpoint writer's temporaries are ignored), warms each new PolicyRuntime beside the serving
// one and swaps it in atomically. Callers take a std::shared_ptr<const PolicyRuntime> per call, so
// in-flight and queued calls finish on the version they started with; an old version's memory is
// released (and the heap trimmed) when its last call ends. A checkpoint that fails to load, validate or warm leaves the serving version in place
// and is reported (log line, Listener) once per file state: a file is tried again only when its size
// or modification time changes. Files younger than `settle_time` are left for the next poll, so a
// checkpoint still being copied in is not mistaken for a corrupt one.
//
//   ModelManager::Options o;
//   o.model_dir = "/models"; o.poll_interval = absl::Seconds(2); o.loader = loader;
//   ASSIGN_OR_RETURN(std::unique_ptr<ModelManager> mm, ModelManager::Create(o));
//   RETURN_IF_ERROR(mm->Start());           // first load (newest loadable file) + poll thread
//   std::shared_ptr<const PolicyRuntime> m = mm->current();  // null until a version is loaded
//   mm->RequestReload();                     // poll now (e.g. on SIGHUP)
//
// Thread-safety: every public method may be called from any thread.
#ifndef MIVLA_SERVER_MODEL_MANAGER_MODEL_MANAGER_H_
#define MIVLA_SERVER_MODEL_MANAGER_MODEL_MANAGER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/runtime_api/policy_runtime.h"
#include "server/runtime_api/runtime_loader.h"

namespace mivla::server {

class ModelManager {
 public:
  /// Reload events, called on the manager's thread (or Start()'s caller). Must be thread-safe and quick.
  class Listener {
   public:
    virtual ~Listener() = default;
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
  };

  static absl::StatusOr<std::unique_ptr<ModelManager>> Create(Options options);
  ~ModelManager();
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  /// Loads the random-init model or the newest loadable checkpoint (older ones are tried when newer
  /// ones fail), then starts polling. NOT_FOUND when nothing loads; the poll thread runs regardless.
  absl::Status Start();
  /// Stops polling and joins the thread. Idempotent.
  void Stop();
  /// Wakes the poll thread for an immediate scan.
  void RequestReload();
  /// Runs one scan on the caller's thread; true when a new version was swapped in.
  bool PollOnce();

  std::shared_ptr<const PolicyRuntime> current() const;
  int64_t reloads_ok() const;
  int64_t reloads_failed() const;

 private:
  struct FileState {
    int64_t mtime_ns = 0;
    int64_t size = 0;
    bool operator==(const FileState& o) const { return mtime_ns == o.mtime_ns && size == o.size; }
  };
  explicit ModelManager(Options options) : options_(std::move(options)) {}
  absl::StatusOr<std::shared_ptr<const PolicyRuntime>> LoadAndWarm(const std::string& path) const;
  void Swap(std::shared_ptr<const PolicyRuntime> next, const std::string& path, FileState state);
  void PollLoop();

  const Options options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const PolicyRuntime> current_ ABSL_GUARDED_BY(mu_);
  std::string current_path_ ABSL_GUARDED_BY(mu_);
  FileState current_state_ ABSL_GUARDED_BY(mu_);
  int64_t reloads_ok_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reloads_failed_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex scan_mu_;  // one scan at a time
  std::map<std::string, FileState> attempted_ ABSL_GUARDED_BY(scan_mu_);
  std::thread thread_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_MODEL_MANAGER_MODEL_MANAGER_H_
