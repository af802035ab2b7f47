// File: checkpoint_listing.h
// The checkpoint files of a model folder, as every reader of one sees them: regular `*.mivla` files,
// newest first (modification time, then path); dot-files (the checkpoint writer's temporaries, the
// rollout state file) and sub-folders are not checkpoints. The model manager lists its directory with
// it; mivla-server and mivla-demo ask it whether the bundled folder holds a model.
//
//   for (const CheckpointFile& c : ListCheckpoints("/models")) Load(c.path);
//
// Thread-safety: pure functions of the folder's state; callable from any thread.
#ifndef MIVLA_CORE_UTIL_CHECKPOINT_LISTING_H_
#define MIVLA_CORE_UTIL_CHECKPOINT_LISTING_H_

#include <cstdint>
#include <string>
#include <vector>

namespace mivla {

inline constexpr char kCheckpointExtension[] = ".mivla";

struct CheckpointFile {
  std::string path;  // dir/name
  int64_t mtime_ns = 0;
  int64_t size = 0;
};

/// Checkpoint files in `dir`, newest first; empty when the folder cannot be read.
std::vector<CheckpointFile> ListCheckpoints(const std::string& dir);

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_CHECKPOINT_LISTING_H_
