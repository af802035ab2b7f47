// Fuzzes the checkpoint container reader (core/checkpoint/checkpoint_file.h) on arbitrary bytes: it
// must answer with a status and never crash, read out of bounds or allocate beyond the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/checkpoint/checkpoint_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<mivla::checkpoint::CheckpointContents> c =
      mivla::checkpoint::ReadCheckpointBytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  if (c.ok()) {
    size_t total = 0;
    for (const auto& [name, bytes] : c->sections) total += bytes.size();
    if (total > size) std::abort();  // sections come from the input
  }
  return 0;
}
