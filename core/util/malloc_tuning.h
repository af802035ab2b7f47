// File: malloc_tuning.h
// glibc malloc settings for long-running servers. By default glibc raises its mmap threshold after
// a large mapped block is freed (up to 32 MiB), so later large blocks come from the arenas, which keep
// their pages: mivla-server's resident memory grew by half within minutes of a client sending 15 MB
// strings and 2.7 MB images (mivla-bench-server --soak: 335 -> 509 MB while the bytes in use fell),
// and periodic malloc_trim(0) did not give it back. A fixed threshold stops the raise: blocks of at
// least that size are mapped and unmapped on free. 8 MiB keeps LibTorch's activations of the tiny
// model in the arenas (a 1 MiB threshold made a batch-16 decode 3-5x slower by mapping them per op).
// Process-wide; thread-safe (mallopt locks the arenas).
#ifndef MIVLA_CORE_UTIL_MALLOC_TUNING_H_
#define MIVLA_CORE_UTIL_MALLOC_TUNING_H_

#include <cstddef>

namespace mivla {

inline constexpr size_t kServerMmapThresholdBytes = size_t{8} << 20;

/// Fixes glibc's mmap threshold at `bytes` (128 KiB .. 32 MiB), unless GLIBC_TUNABLES sets
/// glibc.malloc.mmap_threshold (the operator's choice wins). Returns whether it set it.
bool FixMallocMmapThreshold(size_t bytes);

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_MALLOC_TUNING_H_
