// File: request_failure.cc
#include "client/robot/request_failure.h"

#include "absl/strings/str_cat.h"

namespace mivla::client {

Failure ClassifyFailure(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return Failure::kFatal;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDeadlineExceeded:
      return Failure::kRefused;
    default:
      return Failure::kLost;
  }
}

absl::Status FatalClientError(const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("the policy server refuses this client (", s.ToString(),
                                             "); not reconnecting: check --token-file and the TLS client certificate"));
}

}  // namespace mivla::client
