#include "server/inference/image_header.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace mivla::server {
namespace {

uint32_t Be16(absl::string_view d, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(d[at])) << 8) | static_cast<uint8_t>(d[at + 1]);
}

uint32_t Be32(absl::string_view d, size_t at) { return (Be16(d, at) << 16) | Be16(d, at + 2); }

bool IsStartOfFrame(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

}  // namespace

absl::StatusOr<ImageDims> ReadPngHeader(absl::string_view d) {
  static constexpr char kSignature[] = "\x89PNG\r\n\x1a\n";
  if (d.size() < 8 || d.substr(0, 8) != absl::string_view(kSignature, 8)) {
    return absl::InvalidArgumentError("not a PNG (no PNG signature)");
  }
  // Chunk: length (4, big-endian), type (4), data, CRC (4). IHDR data: width, height, ...
  if (d.size() < 8 + 8 + 13) return absl::InvalidArgumentError("PNG truncated before the end of its IHDR chunk");
  if (d.substr(12, 4) != "IHDR" || Be32(d, 8) != 13) {
    return absl::InvalidArgumentError("PNG does not start with a 13-byte IHDR chunk");
  }
  const ImageDims dims{Be32(d, 16), Be32(d, 20)};
  if (dims.width == 0 || dims.height == 0 || dims.width > 0x7fffffff || dims.height > 0x7fffffff) {
    return absl::InvalidArgumentError(absl::StrCat("PNG header size ", dims.width, "x", dims.height, " is invalid"));
  }
  return dims;
}

absl::StatusOr<ImageDims> ReadJpegHeader(absl::string_view d) {
  const size_t n = d.size();
  if (n < 4 || static_cast<uint8_t>(d[0]) != 0xFF || static_cast<uint8_t>(d[1]) != 0xD8) {
    return absl::InvalidArgumentError("not a JPEG (no start-of-image marker)");
  }
  size_t pos = 2;
  while (pos < n) {
    if (static_cast<uint8_t>(d[pos]) != 0xFF) {
      return absl::InvalidArgumentError(absl::StrCat("JPEG byte ", pos, " should start a marker"));
    }
    while (pos < n && static_cast<uint8_t>(d[pos]) == 0xFF) ++pos;  // fill bytes
    if (pos >= n) break;
    const uint8_t marker = static_cast<uint8_t>(d[pos++]);
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (marker == 0xD9) return absl::InvalidArgumentError("JPEG ends before a frame header");
    if (marker == 0xDA) return absl::InvalidArgumentError("JPEG scan data before a frame header");
    if (pos + 2 > n) break;
    const uint32_t length = Be16(d, pos);  // includes its own two bytes
    if (length < 2) return absl::InvalidArgumentError(absl::StrCat("JPEG marker segment at byte ", pos, " too short"));
    if (IsStartOfFrame(marker)) {
      if (length < 8 || pos + 7 > n) break;
      const ImageDims dims{Be16(d, pos + 5), Be16(d, pos + 3)};  // precision, height, width
      if (dims.width == 0 || dims.height == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("JPEG frame header size ", dims.width, "x", dims.height, " (a zero side is not accepted)"));
      }
      return dims;
    }
    pos += length;
  }
  return absl::InvalidArgumentError("JPEG truncated before a frame header");
}

}  // namespace mivla::server
