// File: malloc_tuning.cc
#include "core/util/malloc_tuning.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace mivla {

bool FixMallocMmapThreshold(size_t bytes) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.mmap_threshold") != nullptr) return false;
  if (bytes < (size_t{128} << 10) || bytes > (size_t{32} << 20)) return false;
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes)) == 1;
}

}  // namespace mivla
