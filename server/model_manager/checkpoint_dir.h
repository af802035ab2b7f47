// File: checkpoint_dir.h
// The model manager's view of a model directory: its checkpoint files (ListCheckpoints, shared with the
// binaries that check the bundled folder, core/util/checkpoint_listing.h) and their rollout ids.
//
// Thread-safety: pure functions of the directory's state; callable from any thread.
#ifndef MIVLA_SERVER_MODEL_MANAGER_CHECKPOINT_DIR_H_
#define MIVLA_SERVER_MODEL_MANAGER_CHECKPOINT_DIR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/checkpoint_listing.h"
#include "server/model_manager/rollout_store.h"

namespace mivla::server {

using ::mivla::CheckpointFile;
using ::mivla::kCheckpointExtension;
using ::mivla::ListCheckpoints;

/// The file's name, size and modification time (the rollout store's key).
CheckpointId IdOf(const std::string& path, int64_t size, int64_t mtime_ns);

/// The file name of `path` ("" for "").
std::string BaseName(const std::string& path);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_MODEL_MANAGER_CHECKPOINT_DIR_H_
