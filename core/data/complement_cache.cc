#include "core/data/complement_cache.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/util/read_file.h"

namespace mivla::data {
namespace {

namespace fs = std::filesystem;
constexpr char kMagic[8] = {'M', 'V', 'C', 'M', 'P', 'L', '0', '1'};

uint64_t Fnv1a(const char* data, size_t n, uint64_t h = 1469598103934665603ull) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

template <typename T>
void Put(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// Reads sequentially from a buffer; any overrun sets `ok` false.
struct Reader {
  const std::string& buf;
  size_t pos = 0;
  bool ok = true;
  template <typename T>
  T Get() {
    T v{};
    if (pos + sizeof(T) > buf.size()) {
      ok = false;
      return v;
    }
    std::memcpy(&v, buf.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
};

}  // namespace

absl::StatusOr<std::string> ComplementCacheKey(const std::string& episode_path, action::Embodiment embodiment,
                                               const LoadOptions& load, const ComplementOptions& options) {
  std::error_code ec;
  const fs::path abs = fs::absolute(episode_path, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(episode_path, ": ", ec.message()));
  const uintmax_t size = fs::file_size(abs, ec);
  if (ec) return absl::NotFoundError(absl::StrCat(episode_path, ": ", ec.message()));
  const auto mtime = fs::last_write_time(abs, ec);
  if (ec) return absl::NotFoundError(absl::StrCat(episode_path, ": ", ec.message()));
  const int64_t mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
  std::string keyed_path = abs.lexically_normal().string();
  if (!options.dataset_root.empty()) {
    const fs::path root = fs::absolute(options.dataset_root, ec).lexically_normal();
    const fs::path rel = abs.lexically_normal().lexically_relative(root);
    if (!ec && !rel.empty() && *rel.begin() != "..") keyed_path = rel.string();
  }
  const std::string dir = options.embodiment_dir.empty() ? kinematics::DefaultEmbodimentDir() : options.embodiment_dir;
  const action::Embodiment robot = embodiment == action::Embodiment::kHuman ? options.human_target : embodiment;
  uint64_t kin = Fnv1a("", 0);
  for (action::Embodiment e : {robot, action::Embodiment::kHuman}) {
    auto text = ReadFile(dir + "/" + kinematics::EmbodimentFileName(e));
    if (!text.ok()) return text.status();
    kin = Fnv1a(text->data(), text->size(), kin);
  }
  return absl::StrCat("v", kComplementVersion, "|", keyed_path, "|", size, "|", mtime_ns, "|",
                      std::string(action::EmbodimentName(embodiment)), "|target=", std::string(action::EmbodimentName(options.human_target)),
                      "|frame=", HumanFrameName(load.frame),
                      "|robotwin_default=", std::string(action::EmbodimentName(load.robotwin_default_embodiment)),
                      "|kin=", absl::StrFormat("%016x", kin));
}

absl::StatusOr<std::string> DatasetComplementCacheDir(const std::string& dataset_dir) {
  const fs::path dir = fs::path(dataset_dir) / kDatasetCacheFolder;
  std::error_code ec;
  if (!fs::is_directory(dataset_dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dataset_dir, ": not a dataset directory"));
  }
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    return absl::PermissionDeniedError(absl::StrCat(
        dir.string(), ": cannot create the complement cache folder: ", ec ? ec.message() : "not a directory"));
  }
  static std::atomic<uint64_t> counter{0};
  const fs::path probe = dir / absl::StrCat(".probe.", getpid(), ".", counter.fetch_add(1));
  {
    std::ofstream f(probe, std::ios::binary | std::ios::trunc);
    f << "probe";
    f.close();
    if (!f) {
      fs::remove(probe, ec);
      return absl::PermissionDeniedError(absl::StrCat(dir.string(), ": the complement cache folder is not writable"));
    }
  }
  fs::remove(probe, ec);
  return dir.string();
}

std::string ComplementCachePath(const std::string& cache_dir, const std::string& key) {
  return (fs::path(cache_dir) / absl::StrFormat("%016x.complements", Fnv1a(key.data(), key.size()))).string();
}

bool ReadCachedComplements(const std::string& cache_dir, const std::string& key, UnifiedEpisode* episode,
                           ComplementReport* report) {
  auto text = ReadFile(ComplementCachePath(cache_dir, key));
  if (!text.ok() || text->size() < sizeof(kMagic) + 2 * sizeof(uint64_t)) return false;
  const std::string& buf = *text;
  const size_t body = buf.size() - sizeof(uint64_t);
  uint64_t checksum = 0;
  std::memcpy(&checksum, buf.data() + body, sizeof(checksum));
  if (Fnv1a(buf.data(), body) != checksum || std::memcmp(buf.data(), kMagic, sizeof(kMagic)) != 0) return false;
  Reader r{buf, sizeof(kMagic)};
  const uint64_t key_len = r.Get<uint64_t>();
  if (!r.ok || key_len > body - r.pos || buf.compare(r.pos, key_len, key) != 0 || key_len != key.size()) return false;
  r.pos += key_len;
  const int32_t frames = r.Get<int32_t>(), failures = r.Get<int32_t>(), target = r.Get<int32_t>();
  if (!r.ok || frames != episode->num_frames() || failures < 0 || failures > frames || target < 0 ||
      target >= action::kNumEmbodiments) {
    return false;
  }
  std::vector<action::ActionMask> masks(frames);
  std::vector<UnifiedVector> values(frames, UnifiedVector{});
  for (int t = 0; t < frames; ++t) {
    const uint64_t lo = r.Get<uint64_t>(), hi = r.Get<uint64_t>();
    for (int d = 0; d < action::kActionDim; ++d) {
      if (!((d < 64 ? lo >> d : hi >> (d - 64)) & 1u)) continue;
      masks[t].set(d);
      values[t][d] = r.Get<double>();
      if (!std::isfinite(values[t][d])) return false;
    }
    if (!r.ok || (masks[t] & episode->masks[t]).any()) return false;
  }
  if (r.pos != body) return false;
  for (int t = 0; t < frames; ++t) {
    for (int d = 0; d < action::kActionDim; ++d) {
      if (masks[t].test(d)) episode->states[t][d] = values[t][d];
    }
  }
  episode->complement_masks = std::move(masks);
  episode->complement_embodiment = static_cast<action::Embodiment>(target);
  report->frames = frames;
  report->ik_failures = failures;
  return true;
}

absl::Status WriteCachedComplements(const std::string& cache_dir, const std::string& key,
                                    const UnifiedEpisode& episode, const ComplementReport& report) {
  if (static_cast<int>(episode.complement_masks.size()) != episode.num_frames()) {
    return absl::FailedPreconditionError(absl::StrCat(episode.source, ": no complements to cache"));
  }
  std::string out(kMagic, sizeof(kMagic));
  Put<uint64_t>(&out, key.size());
  out += key;
  Put<int32_t>(&out, episode.num_frames());
  Put<int32_t>(&out, report.ik_failures);
  Put<int32_t>(&out, static_cast<int32_t>(episode.complement_embodiment));
  for (int t = 0; t < episode.num_frames(); ++t) {
    uint64_t lo = 0, hi = 0;
    const action::ActionMask& m = episode.complement_masks[t];
    for (int d = 0; d < action::kActionDim; ++d) {
      if (m.test(d)) (d < 64 ? lo : hi) |= uint64_t{1} << (d < 64 ? d : d - 64);
    }
    Put(&out, lo);
    Put(&out, hi);
    for (int d = 0; d < action::kActionDim; ++d) {
      if (m.test(d)) Put<double>(&out, episode.states[t][d]);
    }
  }
  Put<uint64_t>(&out, Fnv1a(out.data(), out.size()));

  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(cache_dir, ": cannot create cache directory: ", ec.message()));
  static std::atomic<uint64_t> counter{0};
  const std::string path = ComplementCachePath(cache_dir, key);
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid(), ".", counter.fetch_add(1));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.close();
    if (!f) {
      fs::remove(tmp, ec);
      return absl::InternalError(absl::StrCat(tmp, ": cannot write complement cache"));
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return absl::InternalError(absl::StrCat(path, ": cannot rename complement cache into place"));
  }
  return absl::OkStatus();
}

}  // namespace mivla::data
