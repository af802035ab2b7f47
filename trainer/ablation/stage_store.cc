// File: stage_store.cc
#include "trainer/ablation/stage_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/util/read_file.h"

namespace mivla::trainer::ablation {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::optional<json> ReadJson(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

}  // namespace

absl::Status WriteFileAtomic(const std::string& path, const std::string& contents) {
  const fs::path p(path);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return absl::InternalError(absl::StrCat(path, ": cannot create the folder: ", ec.message()));
  const std::string tmp = (p.parent_path() / absl::StrCat(".", p.filename().string(), ".tmp.", getpid())).string();
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat(tmp, ": cannot create: ", std::strerror(errno)));
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return absl::InternalError(absl::StrCat(tmp, ": write failed: ", why));
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat(path, ": cannot write: ", why));
  }
  const int dfd = open(p.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return absl::OkStatus();
}

std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string StageStore::DonePath(const std::string& stage) const {
  return (fs::path(dir_) / "stages" / (stage + ".done.json")).string();
}

std::optional<StageRecord> StageStore::Done(const std::string& stage) const {
  std::optional<json> j = ReadJson(DonePath(stage));
  if (!j || !j->contains("spec_hash") || !(*j)["spec_hash"].is_string()) return std::nullopt;
  StageRecord r;
  r.stage = stage;
  r.spec_hash = (*j)["spec_hash"].get<std::string>();
  r.seconds = j->value("seconds", 0.0);
  r.finished_at = j->value("finished_at", "");
  if (j->contains("result")) r.result = (*j)["result"];
  return r;
}

absl::Status StageStore::MarkDone(const StageRecord& r) const {
  const json j = {{"stage", r.stage}, {"spec_hash", r.spec_hash}, {"seconds", r.seconds},
                  {"finished_at", r.finished_at.empty() ? UtcNow() : r.finished_at}, {"result", r.result}};
  return WriteFileAtomic(DonePath(r.stage), j.dump(2) + "\n");
}

double StageStore::PartialSeconds(const std::string& stage, const std::string& spec_hash) const {
  std::optional<json> j = ReadJson((fs::path(dir_) / "stages" / (stage + ".partial.json")).string());
  if (!j || j->value("spec_hash", "") != spec_hash) return 0;
  return j->value("seconds", 0.0);
}

absl::Status StageStore::SavePartial(const std::string& stage, const std::string& spec_hash, double seconds) const {
  const json j = {{"stage", stage}, {"spec_hash", spec_hash}, {"seconds", seconds}, {"updated_at", UtcNow()}};
  return WriteFileAtomic((fs::path(dir_) / "stages" / (stage + ".partial.json")).string(), j.dump(2) + "\n");
}

void StageStore::ClearPartial(const std::string& stage) const {
  std::error_code ec;
  fs::remove(fs::path(dir_) / "stages" / (stage + ".partial.json"), ec);
}

}  // namespace mivla::trainer::ablation
