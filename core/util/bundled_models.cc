// File: bundled_models.cc
#include "core/util/bundled_models.h"

#include <cstdlib>
#include <filesystem>

namespace mivla {

namespace fs = std::filesystem;

std::string BundledModelDir() {
  const char* env = std::getenv("MIVLA_MODEL_DIR");
  if (env != nullptr && *env != '\0') return env;
  return MIVLA_MODELS_DIR;
}

bool HoldsCheckpoint(const std::string& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || it->path().extension() != ".mivla") continue;
    if (it->is_regular_file(ec)) return true;
  }
  return false;
}

}  // namespace mivla
