#include "core/tokenizer/text_normalizer.h"

#include <cstdint>

namespace mivla::tokenizer::internal {
namespace {

constexpr char kReplacementChar[] = "\xEF\xBF\xBD";  // U+FFFD

bool IsTrail(unsigned char c) { return (c & 0xC0) == 0x80; }

// The next input character after steps 1-2 of the header: `text` is one character (or U+FFFD),
// `consumed` the input bytes it stands for.
struct Chunk {
  absl::string_view text;
  size_t consumed;
};

}  // namespace

size_t Utf8CharLength(absl::string_view s, size_t pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return 1;
  const size_t left = s.size() - pos;
  auto at = [&](size_t i) { return static_cast<unsigned char>(s[pos + i]); };
  uint32_t cp = 0;
  size_t len = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;  // a continuation byte or 0xF8..0xFF
  }
  if (left < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if (!IsTrail(at(i))) return 0;
    cp = (cp << 6) | (at(i) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len]) return 0;             // overlong
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;        // surrogate
  if (cp > 0x10FFFF) return 0;
  return len;
}

std::string TextNormalizer::Normalize(absl::string_view text) const {
  // Lower-case / whitespace-mapped ASCII, one string per byte value, so chunks can point at them.
  static const std::string* const kAscii = [] {
    auto* table = new std::string[128];
    for (int c = 0; c < 128; ++c) {
      char out = static_cast<char>(c);
      if (c >= 'A' && c <= 'Z') out = static_cast<char>(c - 'A' + 'a');
      if (c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') out = ' ';
      table[c] = std::string(1, out);
    }
    return table;
  }();
  auto next = [&](size_t pos) -> Chunk {
    const auto b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80) return {kAscii[b], 1};
    const size_t len = Utf8CharLength(text, pos);
    if (len == 0) return {kReplacementChar, 1};
    return {text.substr(pos, len), len};
  };
  const absl::string_view space = escape_whitespaces_ ? absl::string_view(kSpaceSymbol) : " ";

  std::string out;
  out.reserve(text.size() + text.size() / 4 + 4);
  size_t pos = 0;
  if (remove_extra_whitespaces_) {
    while (pos < text.size()) {
      const Chunk c = next(pos);
      if (c.text != " ") break;
      pos += c.consumed;
    }
  }
  if (pos >= text.size()) return out;
  if (add_dummy_prefix_) out.append(space.data(), space.size());
  bool prev_space = remove_extra_whitespaces_;
  while (pos < text.size()) {
    const Chunk c = next(pos);
    pos += c.consumed;
    const bool is_space = c.text == " ";
    if (is_space && prev_space) continue;
    if (is_space) {
      out.append(space.data(), space.size());
    } else {
      out.append(c.text.data(), c.text.size());
    }
    prev_space = remove_extra_whitespaces_ && is_space;
  }
  if (remove_extra_whitespaces_) {
    while (out.size() >= space.size() &&
           absl::string_view(out).substr(out.size() - space.size()) == space) {
      out.resize(out.size() - space.size());
    }
  }
  return out;
}

}  // namespace mivla::tokenizer::internal
