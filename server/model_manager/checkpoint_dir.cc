#include "server/model_manager/checkpoint_dir.h"

#include <filesystem>

namespace mivla::server {

CheckpointId IdOf(const std::string& path, int64_t size, int64_t mtime_ns) {
  return CheckpointId{BaseName(path), size, mtime_ns};
}

std::string BaseName(const std::string& path) {
  return path.empty() ? "" : std::filesystem::path(path).filename().string();
}

}  // namespace mivla::server
