// File: checkpoint_layout.h
// Internal to checkpoint_file: the byte layout constants and little-endian helpers shared by the reader
// and the writer. The format itself is documented in checkpoint_file.h.
#ifndef MIVLA_CORE_CHECKPOINT_CHECKPOINT_LAYOUT_H_
#define MIVLA_CORE_CHECKPOINT_CHECKPOINT_LAYOUT_H_

#include <cstdint>

namespace mivla::checkpoint::internal {

inline constexpr char kMagic[8] = {'M', 'I', 'V', 'L', 'A', 'C', 'K', 'P'};
inline constexpr char kEndMagic[8] = {'M', 'I', 'V', 'L', 'A', 'E', 'N', 'D'};
inline constexpr uint64_t kPreambleSize = 32;  // magic, version, H, F, header CRC, preamble CRC
inline constexpr uint64_t kTrailerSize = 12;   // file CRC, end magic

inline void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
inline uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace mivla::checkpoint::internal

#endif  // MIVLA_CORE_CHECKPOINT_CHECKPOINT_LAYOUT_H_
