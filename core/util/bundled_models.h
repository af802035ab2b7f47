// File: bundled_models.h
// Where the bundled trained checkpoint lives, for the binaries that serve it by default (mivla-server
// without --model-dir, mivla-demo): $MIVLA_MODEL_DIR when set and not empty (the container image sets
// it to /opt/mivla/models), else the repository's models/ folder, whose path is fixed at build time.
// Thread-safety: pure functions (they read the environment and the file system).
#ifndef MIVLA_CORE_UTIL_BUNDLED_MODELS_H_
#define MIVLA_CORE_UTIL_BUNDLED_MODELS_H_

#include <string>

namespace mivla {

/// $MIVLA_MODEL_DIR, else the repository's models/ folder (whether or not either exists).
std::string BundledModelDir();

/// True when `dir` holds at least one checkpoint as ListCheckpoints (checkpoint_listing.h) sees them.
bool HoldsCheckpoint(const std::string& dir);

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_BUNDLED_MODELS_H_
