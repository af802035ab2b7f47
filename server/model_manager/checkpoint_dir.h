// File: checkpoint_dir.h
// The checkpoint files of a model directory as the model manager sees them: regular `*.mivla` files,
// dot-files (a writer's temporaries, the rollout state file) ignored, newest first (modification time,
// then path).
//
// Thread-safety: pure functions of the directory's state; callable from any thread.
#ifndef MIVLA_SERVER_MODEL_MANAGER_CHECKPOINT_DIR_H_
#define MIVLA_SERVER_MODEL_MANAGER_CHECKPOINT_DIR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "server/model_manager/rollout_store.h"

namespace mivla::server {

inline constexpr char kCheckpointExtension[] = ".mivla";

struct CheckpointFile {
  std::string path;  // model_dir/name
  int64_t mtime_ns = 0;
  int64_t size = 0;
};

/// Checkpoint files in `dir`, newest first; empty when the directory cannot be read.
std::vector<CheckpointFile> ListCheckpoints(const std::string& dir);

/// The file's name, size and modification time (the rollout store's key).
CheckpointId IdOf(const std::string& path, int64_t size, int64_t mtime_ns);

/// The file name of `path` ("" for "").
std::string BaseName(const std::string& path);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_MODEL_MANAGER_CHECKPOINT_DIR_H_
