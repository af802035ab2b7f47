// Fuzzes the safetensors reader (core/model/safetensors.h) on arbitrary bytes: Parse must answer with a
// status and never crash or read out of bounds; for a blob it accepts, every tensor it lists must come
// out of Get with the dtype's element size times its shape's element count equal to its byte range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<mivla::model::SafetensorsFile> f =
      mivla::model::SafetensorsFile::Parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!f.ok()) return 0;
  for (const std::string& name : f->names()) {
    const mivla::model::SafetensorsFile::Entry* e = f->Find(name);
    if (e == nullptr || e->end < e->begin || e->end > size) std::abort();
    absl::StatusOr<torch::Tensor> t = f->Get(name);
    if (!t.ok()) continue;  // an unsupported dtype may still be refused here
    const uint64_t bytes = static_cast<uint64_t>(t->numel()) * static_cast<uint64_t>(t->element_size());
    if (bytes != e->end - e->begin) std::abort();
    if (t->dim() != static_cast<int64_t>(e->shape.size())) std::abort();
  }
  return 0;
}
