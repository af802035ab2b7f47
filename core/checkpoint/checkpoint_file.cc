// Reading side of checkpoint_file.h. The writer is in checkpoint_file_write.cc; the layout constants
// both share are in checkpoint_layout.h.
#include "core/checkpoint/checkpoint_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/checkpoint/checkpoint_layout.h"
#include "core/util/crc32c.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

namespace mivla::checkpoint {
namespace {

using internal::GetU32;
using internal::GetU64;
using internal::kEndMagic;
using internal::kMagic;
using internal::kPreambleSize;
using internal::kTrailerSize;

// Random-access bytes of one checkpoint: a file read with pread, or a string in memory.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly `n` bytes at `offset` into `dst`; the caller guarantees offset + n <= size().
  virtual absl::Status Read(uint64_t offset, uint64_t n, char* dst) const = 0;
};

class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string bytes) : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  absl::Status Read(uint64_t offset, uint64_t n, char* dst) const override {
    std::memcpy(dst, bytes_.data() + offset, n);
    return absl::OkStatus();
  }

 private:
  std::string bytes_;
};

class FileSource : public ByteSource {
 public:
  static absl::StatusOr<std::unique_ptr<FileSource>> Open(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open checkpoint ", path));
    std::unique_ptr<FileSource> source(new FileSource(path, fd));
    struct stat st;
    if (fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path));
    if (!S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("not a regular file: ", path));
    }
    source->size_ = static_cast<uint64_t>(st.st_size);
    return source;
  }
  ~FileSource() override { close(fd_); }

  uint64_t size() const override { return size_; }
  absl::Status Read(uint64_t offset, uint64_t n, char* dst) const override {
    uint64_t done = 0;
    while (done < n) {
      size_t chunk = static_cast<size_t>(std::min<uint64_t>(n - done, uint64_t{1} << 30));
      ssize_t r = pread(fd_, dst + done, chunk, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path_));
      if (r == 0) {  // the file shrank since it was opened
        return absl::DataLossError(absl::StrCat("truncated: ", path_, " ended at byte ",
                                                offset + done, ", expected ", size_, " bytes"));
      }
      done += static_cast<uint64_t>(r);
    }
    return absl::OkStatus();
  }

 private:
  FileSource(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
  uint64_t size_ = 0;
};

absl::Status Truncated(const std::string& name, uint64_t has, uint64_t expected, bool at_least) {
  return absl::DataLossError(absl::StrCat("truncated: ", name, " has ", has, " bytes, expected ",
                                          at_least ? "at least " : "", expected));
}

absl::Status Corrupt(const std::string& name, const std::string& why) {
  return absl::DataLossError(absl::StrCat("corrupt: ", name, ": ", why));
}

// A header that passed its checksum, plus the CRC-32C of the file up to the first payload byte.
struct ParsedHeader {
  CheckpointHeader header;
  uint32_t crc_so_far = 0;
};

// Fills `out` from the header JSON, checking that the sections tile the payload area exactly.
absl::Status DecodeHeaderJson(const std::string& name, const std::string& text, uint64_t payload_begin,
                              uint64_t payload_end, CheckpointHeader* out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corrupt(name, "header is not a JSON object");
  auto field = [&](const char* key) -> const nlohmann::json* {
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  };
  const nlohmann::json* version = field("model_version");
  if (version == nullptr || !version->is_string()) {
    return Corrupt(name, "header lacks a string \"model_version\"");
  }
  out->model_version = version->get<std::string>();
  const nlohmann::json* metadata = field("metadata");
  if (metadata == nullptr || !metadata->is_object()) {
    return Corrupt(name, "header lacks a \"metadata\" object");
  }
  for (const auto& [key, value] : metadata->items()) {
    if (!value.is_string()) return Corrupt(name, absl::StrCat("metadata '", key, "' is not a string"));
    out->metadata[key] = value.get<std::string>();
  }
  const nlohmann::json* sections = field("sections");
  if (sections == nullptr || !sections->is_array()) {
    return Corrupt(name, "header lacks a \"sections\" array");
  }
  std::set<std::string> seen;
  uint64_t next = payload_begin;
  for (const nlohmann::json& s : *sections) {
    if (!s.is_object() || !s.contains("name") || !s["name"].is_string() || !s.contains("offset") ||
        !s["offset"].is_number_unsigned() || !s.contains("size") || !s["size"].is_number_unsigned() ||
        !s.contains("crc32c") || !s["crc32c"].is_number_unsigned()) {
      return Corrupt(name, "malformed section entry in header");
    }
    SectionInfo info;
    info.name = s["name"].get<std::string>();
    uint64_t relative = s["offset"].get<uint64_t>();
    info.size = s["size"].get<uint64_t>();
    uint64_t crc = s["crc32c"].get<uint64_t>();
    if (info.name.empty() || !seen.insert(info.name).second) {
      return Corrupt(name, absl::StrCat("empty or repeated section name '", info.name, "'"));
    }
    if (crc > UINT32_MAX) return Corrupt(name, absl::StrCat("bad crc32c for '", info.name, "'"));
    info.crc32c = static_cast<uint32_t>(crc);
    if (relative != next - payload_begin || info.size > payload_end - next) {
      return Corrupt(name, absl::StrCat("section '", info.name, "' does not fit the payload area"));
    }
    info.offset = next;
    next += info.size;
    out->sections.push_back(std::move(info));
  }
  if (next != payload_end) {
    return Corrupt(name, absl::StrCat("sections end at byte ", next, ", the payload area at ",
                                      payload_end));
  }
  return absl::OkStatus();
}

// Reads and verifies everything before the payloads.
absl::StatusOr<ParsedHeader> ParseHeader(const ByteSource& src, const std::string& name) {
  const uint64_t size = src.size();
  char pre[kPreambleSize];
  const uint64_t have = std::min<uint64_t>(size, kPreambleSize);
  RETURN_IF_ERROR(src.Read(0, have, pre));
  if (std::memcmp(pre, kMagic, std::min<uint64_t>(have, sizeof(kMagic))) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("not a MiVLA checkpoint: ", name));
  }
  if (size < kPreambleSize) return Truncated(name, size, kPreambleSize + kTrailerSize, true);
  if (Crc32c(pre, 28) != GetU32(pre + 28)) return Corrupt(name, "checksum mismatch in preamble");

  const uint32_t format_version = GetU32(pre + 8);
  if (format_version == 0 || format_version > kCheckpointFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("incompatible: ", name, ": format version ", format_version,
                     ", this build reads up to ", kCheckpointFormatVersion));
  }
  const uint64_t header_size = GetU32(pre + 12);
  const uint64_t file_size = GetU64(pre + 16);
  if (file_size < kPreambleSize + kTrailerSize ||
      header_size > file_size - kPreambleSize - kTrailerSize) {
    return Corrupt(name, absl::StrCat("header size ", header_size, " does not fit file size ",
                                      file_size));
  }
  if (size < file_size) return Truncated(name, size, file_size, false);
  if (size > file_size) {
    return Corrupt(name, absl::StrCat("has ", size, " bytes, expected ", file_size,
                                      " (extra bytes after the trailer)"));
  }

  std::string text(header_size, '\0');
  RETURN_IF_ERROR(src.Read(kPreambleSize, header_size, text.data()));
  if (Crc32c(text.data(), text.size()) != GetU32(pre + 24)) {
    return Corrupt(name, "checksum mismatch in header");
  }
  ParsedHeader parsed;
  parsed.header.format_version = format_version;
  parsed.header.file_size = file_size;
  RETURN_IF_ERROR(DecodeHeaderJson(name, text, kPreambleSize + header_size, file_size - kTrailerSize,
                                   &parsed.header));
  parsed.crc_so_far = Crc32cExtend(Crc32c(pre, kPreambleSize), text.data(), text.size());
  return parsed;
}

// Reads the trailer; checks the end magic, and the whole-file checksum when `file_crc` is given.
absl::Status CheckTrailer(const ByteSource& src, const std::string& name, uint64_t file_size,
                          const uint32_t* file_crc) {
  char trailer[kTrailerSize];
  RETURN_IF_ERROR(src.Read(file_size - kTrailerSize, kTrailerSize, trailer));
  if (std::memcmp(trailer + 4, kEndMagic, sizeof(kEndMagic)) != 0) {
    return Corrupt(name, "end magic missing from trailer");
  }
  if (file_crc != nullptr && GetU32(trailer) != *file_crc) {
    return Corrupt(name, "checksum mismatch in trailer");
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckpointContents> ReadContents(const ByteSource& src, const std::string& name) {
  ASSIGN_OR_RETURN(ParsedHeader parsed, ParseHeader(src, name));
  CheckpointContents contents;
  contents.model_version = std::move(parsed.header.model_version);
  contents.metadata = std::move(parsed.header.metadata);
  uint32_t crc = parsed.crc_so_far;
  for (const SectionInfo& s : parsed.header.sections) {
    std::string payload(s.size, '\0');  // s.size is bounded by the real file size
    RETURN_IF_ERROR(src.Read(s.offset, s.size, payload.data()));
    if (Crc32c(payload.data(), payload.size()) != s.crc32c) {
      return Corrupt(name, absl::StrCat("checksum mismatch in section '", s.name, "'"));
    }
    crc = Crc32cExtend(crc, payload.data(), payload.size());
    contents.sections.emplace(s.name, std::move(payload));
  }
  RETURN_IF_ERROR(CheckTrailer(src, name, parsed.header.file_size, &crc));
  return contents;
}

}  // namespace

const SectionInfo* CheckpointHeader::FindSection(const std::string& name) const {
  for (const SectionInfo& s : sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

absl::StatusOr<CheckpointContents> ReadCheckpointFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<FileSource> src, FileSource::Open(path));
  return ReadContents(*src, path);
}

absl::StatusOr<CheckpointContents> ReadCheckpointBytes(std::string bytes,
                                                       const std::string& name_for_errors) {
  StringSource src(std::move(bytes));
  return ReadContents(src, name_for_errors);
}

absl::StatusOr<CheckpointHeader> ReadCheckpointHeader(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<FileSource> src, FileSource::Open(path));
  ASSIGN_OR_RETURN(ParsedHeader parsed, ParseHeader(*src, path));
  RETURN_IF_ERROR(CheckTrailer(*src, path, parsed.header.file_size, nullptr));
  return std::move(parsed.header);
}

}  // namespace mivla::checkpoint
