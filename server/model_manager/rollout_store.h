// File: rollout_store.h
// RolloutStore: what success-gated rollout remembers across restarts, in one small JSON file,
// `.mivla-rollout.json` in the state directory (--rollout-state-dir; by default the model directory,
// where the leading dot keeps it out of the checkpoint scan and the trainer's globs):
//
//   {"incumbent": {"file": "b.mivla", "size": 1234, "mtime_ns": 1764590000000000000, "version": "v2"},
//    "rejected": [{"file": "c.mivla", "size": 99, "mtime_ns": 1764590100000000000, "version": "v3",
//                  "time_unix_us": 1764590200000000, "why": "rolled back by test: ..."}]}
//
// A checkpoint is named by file name, size and modification time: a file the trainer later rewrites
// under the same name is a new checkpoint, not a rejected one. The file is replaced atomically (a
// dot-named temporary file, then rename); entries of rejected files that are gone from the model
// directory are dropped when it is written. Open refuses a file it cannot read whole: not JSON, an
// entry without file, size and mtime_ns, or any field of the wrong type, named with its path
// (`rejected[2].size: expected an integer, got "1"`), so the operator fixes or removes it.
//
//   ASSIGN_OR_RETURN(auto store, RolloutStore::Open(state_dir, model_dir, /*writable=*/true));
//   if (store->IsRejected(id)) ...;  RETURN_IF_ERROR(store->Reject(id, "v3", "p = 0.001 < 0.05"));
//
// Thread-safety: every method may be called from any thread (an internal mutex; a leaf lock).
#ifndef MIVLA_SERVER_MODEL_MANAGER_ROLLOUT_STORE_H_
#define MIVLA_SERVER_MODEL_MANAGER_ROLLOUT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace mivla::server {

/// One checkpoint file as the model directory shows it.
struct CheckpointId {
  std::string file;      // name inside the model directory
  int64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const CheckpointId& o) const { return file == o.file && size == o.size && mtime_ns == o.mtime_ns; }
};

class RolloutStore {
 public:
  static constexpr char kFileName[] = ".mivla-rollout.json";

  /// Reads `<state_dir>/.mivla-rollout.json` when it exists. INVALID_ARGUMENT naming the file when it is
  /// not such JSON. With `writable`, FAILED_PRECONDITION naming the directory when it is not a writable
  /// directory (a read-only model directory needs --rollout-state-dir).
  static absl::StatusOr<std::unique_ptr<RolloutStore>> Open(const std::string& state_dir, const std::string& model_dir,
                                                            bool writable);

  bool IsRejected(const CheckpointId& id) const;
  size_t rejected_count() const;
  /// The last promoted (or first served) checkpoint, if recorded.
  std::optional<CheckpointId> incumbent() const;
  const std::string& path() const { return path_; }

  /// Record and write at once; an error names the file. FAILED_PRECONDITION when opened read-only.
  absl::Status Reject(const CheckpointId& id, const std::string& version, const std::string& why);
  absl::Status SetIncumbent(const CheckpointId& id, const std::string& version);

 private:
  struct Rejected {
    CheckpointId id;
    std::string version;
    int64_t time_unix_us = 0;
    std::string why;
  };
  RolloutStore(std::string path, std::string model_dir, bool writable)
      : path_(std::move(path)), model_dir_(std::move(model_dir)), writable_(writable) {}
  absl::Status Load();
  absl::Status Write() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const std::string model_dir_;
  const bool writable_;
  mutable absl::Mutex mu_;
  std::optional<CheckpointId> incumbent_ ABSL_GUARDED_BY(mu_);
  std::string incumbent_version_ ABSL_GUARDED_BY(mu_);
  std::vector<Rejected> rejected_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_MODEL_MANAGER_ROLLOUT_STORE_H_
