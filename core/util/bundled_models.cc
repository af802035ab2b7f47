// File: bundled_models.cc
#include "core/util/bundled_models.h"

#include <cstdlib>

#include "core/util/checkpoint_listing.h"

namespace mivla {

std::string BundledModelDir() {
  const char* env = std::getenv("MIVLA_MODEL_DIR");
  if (env != nullptr && *env != '\0') return env;
  return MIVLA_MODELS_DIR;
}

bool HoldsCheckpoint(const std::string& dir) { return !ListCheckpoints(dir).empty(); }

}  // namespace mivla
