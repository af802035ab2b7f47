#include "server/inference/hostile_images.h"

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "server/inference/test_requests.h"

namespace mivla::server::testing {
namespace {

void PutBe32(uint32_t v, std::string* out) {
  for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<char>((v >> s) & 0xFF));
}

void PutChunk(const char* type, const std::string& data, std::string* out) {
  PutBe32(static_cast<uint32_t>(data.size()), out);
  std::string body = std::string(type, 4) + data;
  out->append(body);
  PutBe32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())), out);
}

// Deflates `in` with `flush`, appending everything produced.
void Deflate(z_stream* z, const std::vector<uint8_t>& in, int flush, std::string* out) {
  z->next_in = const_cast<Bytef*>(in.data());
  z->avail_in = static_cast<uInt>(in.size());
  std::vector<uint8_t> buf(1 << 16);
  do {
    z->next_out = buf.data();
    z->avail_out = static_cast<uInt>(buf.size());
    if (deflate(z, flush) == Z_STREAM_ERROR) throw std::runtime_error("deflate failed");
    out->append(reinterpret_cast<const char*>(buf.data()), buf.size() - z->avail_out);
  } while (z->avail_out == 0 || z->avail_in > 0);
}

}  // namespace

std::string JpegClaiming(int width, int height) {
  std::string jpeg = SolidJpeg(16, 16, 90, 90, 90);
  for (size_t i = 2; i + 9 < jpeg.size();) {  // find SOF0 and rewrite its height and width
    const uint8_t marker = static_cast<uint8_t>(jpeg[i + 1]);
    const size_t length = (static_cast<uint8_t>(jpeg[i + 2]) << 8) | static_cast<uint8_t>(jpeg[i + 3]);
    if (marker == 0xC0) {
      jpeg[i + 5] = static_cast<char>(height >> 8), jpeg[i + 6] = static_cast<char>(height & 0xFF);
      jpeg[i + 7] = static_cast<char>(width >> 8), jpeg[i + 8] = static_cast<char>(width & 0xFF);
      return jpeg;
    }
    i += 2 + length;
  }
  throw std::runtime_error("JpegClaiming: no SOF0 marker in the encoded JPEG");
}

std::string ZeroPng(int width, int height) {
  const uint64_t row_bytes = 1 + 3ULL * static_cast<uint64_t>(width);  // filter byte + RGB
  const std::vector<uint8_t> row(row_bytes, 0);
  z_stream z{};
  if (deflateInit(&z, 9) != Z_OK) throw std::runtime_error("deflateInit failed");
  // After a full flush the compressor starts afresh, so every further all-zero row compresses to the
  // same bytes: compress the first two rows, then repeat the second row's output.
  std::string idat, first_rest;
  Deflate(&z, row, Z_FULL_FLUSH, &idat);
  if (height > 1) Deflate(&z, row, Z_FULL_FLUSH, &first_rest);
  for (int r = 1; r < height; ++r) idat += first_rest;
  std::string tail;
  Deflate(&z, {}, Z_FINISH, &tail);
  deflateEnd(&z);
  // The trailer's Adler-32 must cover every row: for n zero bytes it is (n mod 65521) << 16 | 1.
  const uint64_t total = row_bytes * static_cast<uint64_t>(height);
  tail.resize(tail.size() - 4);
  PutBe32(static_cast<uint32_t>(((total % 65521) << 16) | 1), &tail);
  idat += tail;

  std::string png("\x89PNG\r\n\x1a\n", 8), ihdr;
  PutBe32(static_cast<uint32_t>(width), &ihdr);
  PutBe32(static_cast<uint32_t>(height), &ihdr);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit, RGB, deflate, adaptive filter, no interlace
  PutChunk("IHDR", ihdr, &png);
  PutChunk("IDAT", idat, &png);
  PutChunk("IEND", "", &png);
  return png;
}

}  // namespace mivla::server::testing
