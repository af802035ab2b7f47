// Writing side of checkpoint_file.h: encode the header, stream preamble, header, payloads and trailer
// into a temporary file beside the target, fsync, rename, fsync the directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/checkpoint/checkpoint_file.h"
#include "core/checkpoint/checkpoint_layout.h"
#include "core/util/crc32c.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

namespace mivla::checkpoint {
namespace {

using internal::kEndMagic;
using internal::kMagic;
using internal::kPreambleSize;
using internal::kTrailerSize;
using internal::PutU32;
using internal::PutU64;

constexpr uint64_t kChunkSize = uint64_t{1} << 20;

// The header JSON (see checkpoint_file.h), or INVALID_ARGUMENT for contents it cannot hold.
absl::StatusOr<std::string> EncodeHeader(const CheckpointContents& c, const std::string& path) {
  nlohmann::json sections = nlohmann::json::array();
  uint64_t offset = 0;
  for (const auto& [name, payload] : c.sections) {
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("empty section name writing ", path));
    }
    sections.push_back({{"name", name},
                        {"offset", offset},
                        {"size", static_cast<uint64_t>(payload.size())},
                        {"crc32c", Crc32c(payload.data(), payload.size())}});
    offset += payload.size();
  }
  nlohmann::json header = {{"model_version", c.model_version},
                           {"metadata", c.metadata},
                           {"sections", std::move(sections)}};
  try {
    return header.dump();  // strict: throws on strings that are not UTF-8
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", path, ": model version, metadata and section names must be "
                     "UTF-8 (", e.what(), ")"));
  }
}

// A temporary file that is removed on destruction unless it was renamed into place.
class TempFile {
 public:
  static absl::StatusOr<std::unique_ptr<TempFile>> CreateBeside(const std::string& path) {
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    std::string tmpl = absl::StrCat(dir, "/.", base, ".tmp.XXXXXX");
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot create a temporary file for ", path));
    }
    std::unique_ptr<TempFile> t(new TempFile(std::move(dir), buf.data(), fd));
    if (fchmod(fd, 0644) != 0) return t->Error("chmod");
    return t;
  }

  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!renamed_) unlink(path_.c_str());
  }

  absl::Status Write(const char* data, uint64_t n) {
    while (n > 0) {
      ssize_t w = write(fd_, data, static_cast<size_t>(std::min<uint64_t>(n, kChunkSize)));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Error("write");
      data += w;
      n -= static_cast<uint64_t>(w);
    }
    return absl::OkStatus();
  }

  absl::Status Sync() { return fsync(fd_) == 0 ? absl::OkStatus() : Error("fsync"); }

  absl::Status Close() {
    int rc = close(fd_);
    fd_ = -1;
    return rc == 0 ? absl::OkStatus() : Error("close");
  }

  absl::Status RenameTo(const std::string& target) {
    if (rename(path_.c_str(), target.c_str()) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot rename ", path_, " to ", target));
    }
    renamed_ = true;
    return absl::OkStatus();
  }

  absl::Status SyncDirectory() {
    int dfd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open directory ", dir_));
    int rc = fsync(dfd);
    int err = errno;
    close(dfd);
    if (rc != 0) return absl::ErrnoToStatus(err, absl::StrCat("cannot fsync directory ", dir_));
    return absl::OkStatus();
  }

 private:
  TempFile(std::string dir, std::string path, int fd)
      : dir_(std::move(dir)), path_(std::move(path)), fd_(fd) {}
  absl::Status Error(const char* what) const {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot ", what, " ", path_));
  }

  std::string dir_;
  std::string path_;
  int fd_;
  bool renamed_ = false;
};

// Streams bytes into a TempFile in chunks, keeping the running CRC-32C and calling the test hook.
class ChunkWriter {
 public:
  ChunkWriter(TempFile* file, const WriteCheckpointOptions& options)
      : file_(file), options_(options) {}

  absl::Status Append(const char* data, uint64_t n) {
    crc_ = Crc32cExtend(crc_, data, n);
    do {
      uint64_t chunk = std::min(n, kChunkSize);
      if (options_.before_write_for_testing) {
        RETURN_IF_ERROR(options_.before_write_for_testing(written_));
      }
      RETURN_IF_ERROR(file_->Write(data, chunk));
      written_ += chunk;
      data += chunk;
      n -= chunk;
    } while (n > 0);
    return absl::OkStatus();
  }
  uint32_t crc() const { return crc_; }

 private:
  TempFile* file_;
  const WriteCheckpointOptions& options_;
  uint32_t crc_ = 0;
  uint64_t written_ = 0;
};

}  // namespace

absl::Status WriteCheckpointFile(const std::string& path, const CheckpointContents& contents,
                                 const WriteCheckpointOptions& options) {
  ASSIGN_OR_RETURN(std::string header, EncodeHeader(contents, path));
  if (header.size() > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("header too large writing ", path));
  }
  uint64_t file_size = kPreambleSize + header.size() + kTrailerSize;
  for (const auto& [name, payload] : contents.sections) file_size += payload.size();

  char preamble[kPreambleSize];
  std::copy(kMagic, kMagic + sizeof(kMagic), preamble);
  PutU32(preamble + 8, kCheckpointFormatVersion);
  PutU32(preamble + 12, static_cast<uint32_t>(header.size()));
  PutU64(preamble + 16, file_size);
  PutU32(preamble + 24, Crc32c(header.data(), header.size()));
  PutU32(preamble + 28, Crc32c(preamble, 28));

  ASSIGN_OR_RETURN(std::unique_ptr<TempFile> tmp, TempFile::CreateBeside(path));
  ChunkWriter out(tmp.get(), options);
  RETURN_IF_ERROR(out.Append(preamble, kPreambleSize));
  RETURN_IF_ERROR(out.Append(header.data(), header.size()));
  for (const auto& [name, payload] : contents.sections) {
    RETURN_IF_ERROR(out.Append(payload.data(), payload.size()));
  }
  char trailer[kTrailerSize];
  PutU32(trailer, out.crc());
  std::copy(kEndMagic, kEndMagic + sizeof(kEndMagic), trailer + 4);
  RETURN_IF_ERROR(out.Append(trailer, kTrailerSize));

  if (options.sync) RETURN_IF_ERROR(tmp->Sync());
  RETURN_IF_ERROR(tmp->Close());
  RETURN_IF_ERROR(tmp->RenameTo(path));
  if (options.sync) RETURN_IF_ERROR(tmp->SyncDirectory());
  return absl::OkStatus();
}

}  // namespace mivla::checkpoint
