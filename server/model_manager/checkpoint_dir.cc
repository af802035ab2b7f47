#include "server/model_manager/checkpoint_dir.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <tuple>

#include "absl/strings/match.h"

namespace mivla::server {

std::vector<CheckpointFile> ListCheckpoints(const std::string& dir) {
  std::vector<CheckpointFile> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || !absl::EndsWith(name, kCheckpointExtension)) continue;
    struct stat st;
    if (::stat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back({entry.path().string(),
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                   static_cast<int64_t>(st.st_size)});
  }
  std::sort(out.begin(), out.end(), [](const CheckpointFile& a, const CheckpointFile& b) {
    return std::tie(a.mtime_ns, a.path) > std::tie(b.mtime_ns, b.path);
  });
  return out;
}

CheckpointId IdOf(const std::string& path, int64_t size, int64_t mtime_ns) {
  return CheckpointId{BaseName(path), size, mtime_ns};
}

std::string BaseName(const std::string& path) {
  return path.empty() ? "" : std::filesystem::path(path).filename().string();
}

}  // namespace mivla::server
