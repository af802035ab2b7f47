// File: safetensors.h
// A reader and writer for the safetensors format (HuggingFace), written here:
//
//   [8 bytes: little-endian u64 N][N bytes: JSON header][data]
//   header = {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//             "__metadata__": {"<key>": "<string value>"}}
//
// Offsets are relative to the start of the data; the tensors must cover the data exactly (no holes,
// no overlaps), and each tensor's byte size must equal numel × element size. Supported dtypes: F64,
// F32, F16, BF16, I64, I32, I16, I8, U8, BOOL (others, e.g. U16/U32/U64/F8_*, are rejected as
// unsupported). Data are little-endian; this code assumes a little-endian host (x86-64, aarch64).
//
// Every malformed input is an absl error naming the source (file path or "<memory>"), the tensor
// where there is one, and the reason; nothing malformed crashes.
//
// Thread safety: a SafetensorsFile is immutable after Open/Parse; const methods may be called
// concurrently. The free functions are thread-safe.
#ifndef MIVLA_CORE_MODEL_SAFETENSORS_H_
#define MIVLA_CORE_MODEL_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mivla::model {

/// An opened safetensors blob. Owns the bytes (the whole file is read into memory).
class SafetensorsFile {
 public:
  struct Entry {
    std::string dtype;            // "F32", "BF16", ...
    std::vector<int64_t> shape;
    uint64_t begin = 0;           // byte offsets relative to the data start
    uint64_t end = 0;
  };

  /// Reads and validates the file at `path`.
  static absl::StatusOr<SafetensorsFile> Open(const std::string& path);
  /// Validates `bytes` (a whole safetensors blob, e.g. embedded in a checkpoint). `source` names the
  /// blob in error messages.
  static absl::StatusOr<SafetensorsFile> Parse(std::string bytes, const std::string& source = "<memory>");

  /// Tensor names, sorted.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  /// Header entry for `name`, or nullptr.
  const Entry* Find(const std::string& name) const;
  /// A fresh CPU tensor (a copy, original dtype) holding `name`'s data; NotFound if absent.
  absl::StatusOr<torch::Tensor> Get(const std::string& name) const;
  /// The "__metadata__" strings (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& source() const { return source_; }

 private:
  SafetensorsFile() = default;

  std::string source_;
  std::string bytes_;
  uint64_t data_start_ = 0;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Serialises `tensors` (any device; made contiguous and copied to the CPU) in the given order, with
/// the header padded by spaces to a multiple of 8 bytes. Errors: empty, duplicate or "__metadata__"
/// names, undefined tensors, unsupported dtypes.
absl::StatusOr<std::string> SerializeSafetensors(const NamedTensors& tensors,
                                                 const std::map<std::string, std::string>& metadata = {});

/// SerializeSafetensors, then writes the bytes to `path` (not atomically: callers that need atomic
/// replacement write elsewhere and rename).
absl::Status WriteSafetensors(const std::string& path, const NamedTensors& tensors,
                              const std::map<std::string, std::string>& metadata = {});

/// The safetensors dtype name of a torch dtype ("F32", ...), or an error if unsupported.
absl::StatusOr<std::string> SafetensorsDtypeName(torch::ScalarType type);

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_SAFETENSORS_H_
