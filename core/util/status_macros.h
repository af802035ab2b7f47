// File: status_macros.h
// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status and absl::StatusOr (Abseil 20220623 has none).
//
//   absl::StatusOr<Model> Load(const std::string& path) {
//     ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
//     RETURN_IF_ERROR(Validate(bytes));
//     ...
//   }
#ifndef MIVLA_CORE_UTIL_STATUS_MACROS_H_
#define MIVLA_CORE_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MIVLA_STATUS_CONCAT_INNER_(a, b) a##b
#define MIVLA_STATUS_CONCAT_(a, b) MIVLA_STATUS_CONCAT_INNER_(a, b)

/// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status mivla_status_ = (expr);         \
    if (!mivla_status_.ok()) return mivla_status_; \
  } while (false)

/// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status on error, else moves the value into
/// `lhs` (a declaration such as `auto x` or an existing variable).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  MIVLA_ASSIGN_OR_RETURN_IMPL_(MIVLA_STATUS_CONCAT_(mivla_statusor_, __LINE__), lhs, rexpr)

#define MIVLA_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // MIVLA_CORE_UTIL_STATUS_MACROS_H_
