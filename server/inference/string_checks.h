// File: string_checks.h
// Free-form strings from clients: a length limit with a message naming the field, UTF-8 validity, and
// a bounded quote of a client's value for error messages (so a 1 MB session id is never echoed back).
// Thread-safe (pure functions).
#ifndef MIVLA_SERVER_INFERENCE_STRING_CHECKS_H_
#define MIVLA_SERVER_INFERENCE_STRING_CHECKS_H_

#include <cstddef>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace mivla::server {

/// At most `max_bytes` of `value` (cut on a UTF-8 character boundary, invalid bytes as '?'), followed
/// by "...(N bytes)" when cut.
std::string ClipForEcho(absl::string_view value, size_t max_bytes);

bool IsValidUtf8(absl::string_view s);

/// INVALID_ARGUMENT "<field>: N bytes; at most M (--flag)" or "<field>: not valid UTF-8".
absl::Status CheckString(absl::string_view value, const std::string& field, size_t max_bytes, const char* flag);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_STRING_CHECKS_H_
