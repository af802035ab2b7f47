// File: torch_status.h
// CatchTorchErrors: runs LibTorch code at a module boundary and turns what it throws into a Status, so
// that each boundary does not write its own catch ladder.
//
//   absl::StatusOr<Bundle> Load(const std::string& path) {
//     return CatchTorchErrors(absl::StrCat("cannot load ", path), [&] { return LoadOrThrow(path); });
//   }
//
// What is thrown becomes (the callable's own error statuses pass through unchanged):
//   std::bad_alloc        RESOURCE_EXHAUSTED "<context>: out of memory"
//   c10::Error            `code` (default INTERNAL) "<context>: <what_without_backtrace()>"
//   other std::exception  `code` (default INTERNAL) "<context>: <what()>"
// `code` names what failed at the site (DATA_LOSS: a file did not read back, UNAVAILABLE: the peers were
// not reached); it covers every exception but std::bad_alloc, since a site's LibTorch calls also throw
// through libraries that do not derive from c10::Error (Gloo, nlohmann-json, the standard library).
// Anything not derived from std::exception propagates.
//
// The callable returns void (-> absl::Status), absl::Status or absl::StatusOr<T> (-> the same type).
// Thread-safe: holds no state.
#ifndef MIVLA_CORE_MODEL_TORCH_STATUS_H_
#define MIVLA_CORE_MODEL_TORCH_STATUS_H_

#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include <c10/util/Exception.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mivla::model {
namespace torch_status_internal {

absl::Status OutOfMemory(absl::string_view context);
absl::Status FromTorchError(absl::StatusCode code, absl::string_view context, const c10::Error& e);
absl::Status FromException(absl::StatusCode code, absl::string_view context, const std::exception& e);

template <typename R>
struct Result {};
template <>
struct Result<void> {
  using type = absl::Status;
};
template <>
struct Result<absl::Status> {
  using type = absl::Status;
};
template <typename T>
struct Result<absl::StatusOr<T>> {
  using type = absl::StatusOr<T>;
};

}  // namespace torch_status_internal

/// Runs `fn()`; see the file comment for how exceptions map to statuses. `code` must not be OK.
template <typename F, typename R = std::invoke_result_t<F>>
typename torch_status_internal::Result<R>::type CatchTorchErrors(absl::StatusCode code, absl::string_view context,
                                                                 F&& fn) {
  try {
    if constexpr (std::is_void_v<R>) {
      std::forward<F>(fn)();
      return absl::OkStatus();
    } else {
      return std::forward<F>(fn)();
    }
  } catch (const std::bad_alloc&) {
    return torch_status_internal::OutOfMemory(context);
  } catch (const c10::Error& e) {
    return torch_status_internal::FromTorchError(code, context, e);
  } catch (const std::exception& e) {
    return torch_status_internal::FromException(code, context, e);
  }
}

/// As above with INTERNAL for c10::Error and other std::exception.
template <typename F, typename R = std::invoke_result_t<F>>
typename torch_status_internal::Result<R>::type CatchTorchErrors(absl::string_view context, F&& fn) {
  return CatchTorchErrors(absl::StatusCode::kInternal, context, std::forward<F>(fn));
}

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_TORCH_STATUS_H_
