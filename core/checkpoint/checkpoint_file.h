// File: checkpoint_file.h
// The on-disk container of a MiVLA checkpoint: one versioned file that holds named byte sections (the
// model stores "config.json", "normalization.json", "tokenizer.model" and "weights.safetensors" in
// them), a model version string and free-form string metadata, all guarded by CRC-32C checksums. This
// layer knows nothing about tensors and does not depend on LibTorch.
//
//   CheckpointContents c;
//   c.model_version = "tiny-000100";
//   c.metadata["step"] = "100";
//   c.sections["config.json"] = config_json;
//   RETURN_IF_ERROR(WriteCheckpointFile("/models/tiny-000100.mivla", c));
//   ASSIGN_OR_RETURN(CheckpointContents back, ReadCheckpointFile("/models/tiny-000100.mivla"));
//   ASSIGN_OR_RETURN(CheckpointHeader h, ReadCheckpointHeader(path));  // cheap: no payloads read
//
// Format version 1. Integers are little-endian.
//
//   offset  size  field
//   0       8     magic "MIVLACKP"
//   8       4     format version (u32)
//   12      4     header size H (u32)
//   16      8     file size F (u64): the whole file, preamble and trailer included
//   24      4     CRC-32C of the H header bytes (u32)
//   28      4     CRC-32C of bytes [0, 28) (u32)
//   32      H     header, compact UTF-8 JSON:
//                   {"metadata": {"key": "value", ...}, "model_version": "...",
//                    "sections": [{"crc32c": c, "name": "...", "offset": o, "size": n}, ...]}
//                 Sections are listed in name order. "offset" counts from the start of the payload
//                 area (byte 32 + H); the payloads lie back to back in the listed order, no padding.
//   32+H    ...   section payloads
//   F-12    4     CRC-32C of bytes [0, F-12), the whole file before the trailer (u32)
//   F-8     8     end magic "MIVLAEND"
//
// The 32-byte preamble keeps this layout in every future format version. Because of that, a reader can
// tell a newer file (an incompatible version) from a damaged one (a bad checksum).
//
// Errors (every message names the path, or the name given to ReadCheckpointBytes):
//   NOT_FOUND            the file does not exist.
//   INVALID_ARGUMENT     "not a MiVLA checkpoint: <path>" (the magic is wrong), a path that is not a
//                        regular file, or contents that cannot be written (empty section name,
//                        strings that are not UTF-8).
//   DATA_LOSS            "truncated: <path> has N bytes, expected M";
//                        "corrupt: <path>: checksum mismatch in section 'weights.safetensors'" (or
//                        "in preamble", "in header", "in trailer"); a header that contradicts itself.
//   FAILED_PRECONDITION  "incompatible: <path>: format version 7, this build reads up to 1".
// Readers never crash on hostile input: every size is checked against the real file size before
// anything is allocated.
//
// Thread-safety: all functions are reentrant and share no state. Concurrent writers to one path each
// leave a complete file there; the last rename wins.
#ifndef MIVLA_CORE_CHECKPOINT_CHECKPOINT_FILE_H_
#define MIVLA_CORE_CHECKPOINT_CHECKPOINT_FILE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mivla::checkpoint {

/// The newest format version this build writes and reads.
inline constexpr uint32_t kCheckpointFormatVersion = 1;

/// Everything a checkpoint file holds. Section payloads are arbitrary bytes and may be empty.
struct CheckpointContents {
  std::string model_version;
  std::map<std::string, std::string> metadata;
  std::map<std::string, std::string> sections;

  bool operator==(const CheckpointContents& o) const {
    return model_version == o.model_version && metadata == o.metadata && sections == o.sections;
  }
};

/// Where one section's payload lies, as the header records it.
struct SectionInfo {
  std::string name;
  uint64_t offset = 0;  // absolute byte offset of the payload in the file
  uint64_t size = 0;    // payload bytes
  uint32_t crc32c = 0;  // CRC-32C of the payload
};

/// What ReadCheckpointHeader returns: the file's description, without the payloads.
struct CheckpointHeader {
  uint32_t format_version = 0;
  uint64_t file_size = 0;
  std::string model_version;
  std::map<std::string, std::string> metadata;
  std::vector<SectionInfo> sections;  // in file order, which is name order

  /// The named section, or nullptr. The pointer lives as long as this header is not modified.
  const SectionInfo* FindSection(const std::string& name) const;
};

struct WriteCheckpointOptions {
  /// fsync the file before the rename and its directory after it. Turn off only for scratch files.
  bool sync = true;
  /// Test hook: called before each chunk written to the temporary file, with the number of bytes
  /// written so far. A non-OK return aborts the write exactly as an I/O error would.
  std::function<absl::Status(uint64_t bytes_written)> before_write_for_testing;
};

/// Writes `contents` to `path` atomically: the bytes go to a temporary file ".<name>.tmp.XXXXXX" in the
/// same directory, which is fsynced and then renamed over `path`, and the directory is fsynced. On any
/// failure the temporary file is removed and whatever was at `path` before is left untouched, so a
/// reader sees either the old complete file or the new complete file, never a partial one.
absl::Status WriteCheckpointFile(const std::string& path, const CheckpointContents& contents,
                                 const WriteCheckpointOptions& options = {});

/// Reads and verifies the whole file: the preamble, header, section and whole-file checksums.
absl::StatusOr<CheckpointContents> ReadCheckpointFile(const std::string& path);

/// Same as ReadCheckpointFile, for a file already in memory; `name_for_errors` stands in for the path.
absl::StatusOr<CheckpointContents> ReadCheckpointBytes(std::string bytes,
                                                       const std::string& name_for_errors);

/// Reads only the preamble, the header and the end magic, and verifies their checksums and sizes; the
/// section payloads are neither read nor checked. Cheap enough to list a directory of checkpoints.
absl::StatusOr<CheckpointHeader> ReadCheckpointHeader(const std::string& path);

}  // namespace mivla::checkpoint

#endif  // MIVLA_CORE_CHECKPOINT_CHECKPOINT_FILE_H_
