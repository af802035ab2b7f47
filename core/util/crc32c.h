// File: crc32c.h
// CRC-32C (Castagnoli), the checksum that guards checkpoint files against truncation and bit flips.
// Thread-safe; no state beyond a constant table built on first use.
#ifndef MIVLA_CORE_UTIL_CRC32C_H_
#define MIVLA_CORE_UTIL_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace mivla {

/// Extends `crc` (0 for a fresh checksum) with `size` bytes at `data`.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

inline uint32_t Crc32c(const void* data, size_t size) { return Crc32cExtend(0, data, size); }

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_CRC32C_H_
