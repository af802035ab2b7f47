// File: status_prefix.h
// WithPrefix: an error passed up a boundary with its context in front ("--tokenizer: ", "episode 7: "),
// keeping its code, so a caller still tells NOT_FOUND from INVALID_ARGUMENT. OK stays OK.
//
//   absl::StatusOr<std::string> text = ReadFile(path);
//   if (!text.ok()) return WithPrefix(text.status(), "--token-file: ");
#ifndef MIVLA_CORE_UTIL_STATUS_PREFIX_H_
#define MIVLA_CORE_UTIL_STATUS_PREFIX_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace mivla {

/// `status` with `prefix` put in front of its message; the same code. OK stays OK.
inline absl::Status WithPrefix(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_STATUS_PREFIX_H_
