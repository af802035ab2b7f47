#include "core/model/torch_status.h"

#include "absl/strings/str_cat.h"

namespace mivla::model::torch_status_internal {
namespace {

// An OK `code` would turn a failure into success (and crash an absl::StatusOr): INTERNAL instead.
absl::Status Failure(absl::StatusCode code, absl::string_view context, absl::string_view what) {
  return absl::Status(code == absl::StatusCode::kOk ? absl::StatusCode::kInternal : code,
                      absl::StrCat(context, ": ", what));
}

}  // namespace

absl::Status OutOfMemory(absl::string_view context) {
  return absl::ResourceExhaustedError(absl::StrCat(context, ": out of memory"));
}

absl::Status FromTorchError(absl::StatusCode code, absl::string_view context, const c10::Error& e) {
  return Failure(code, context, e.what_without_backtrace());
}

absl::Status FromException(absl::StatusCode code, absl::string_view context, const std::exception& e) {
  return Failure(code, context, e.what());
}

}  // namespace mivla::model::torch_status_internal
