#include "server/inference/string_checks.h"

#include "absl/strings/str_cat.h"

namespace mivla::server {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
size_t Utf8Length(absl::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;  // overlong, range, surrogate
  return n;
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8Length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ClipForEcho(absl::string_view value, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    size_t n = Utf8Length(value, i);
    const size_t take = n == 0 ? 1 : n;
    if (out.size() + take > max_bytes) break;
    if (n == 0 || static_cast<uint8_t>(value[i]) < 0x20) {
      out.push_back('?');  // invalid byte or control character
    } else {
      out.append(value.data() + i, n);
    }
    i += take;
  }
  if (i < value.size()) absl::StrAppend(&out, "...(", value.size(), " bytes)");
  return out;
}

absl::Status CheckString(absl::string_view value, const std::string& field, size_t max_bytes, const char* flag) {
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", value.size(), " bytes; at most ", max_bytes, " (", flag, ")"));
  }
  if (!IsValidUtf8(value)) return absl::InvalidArgumentError(absl::StrCat(field, ": not valid UTF-8"));
  return absl::OkStatus();
}

}  // namespace mivla::server
