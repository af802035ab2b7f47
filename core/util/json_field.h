// File: json_field.h
// One typed field of a JSON object: the check every config reader of the project makes (model configs,
// mivla-train's run configs, ablation files, a HuggingFace config.json) before it takes a value. Each
// reader puts its own prefix (file, dotted path) in front of the message.
//
//   absl::StatusOr<bool> read = ReadJsonField(object, "heads", &heads);
//   if (!read.ok()) return Error("heads", read.status().message());  // "expected an integer, got 4.5"
//   if (*read) ...                                                    // present: `heads` was set
//
// ReadJsonFieldAt does the same with the field's dotted path in front of the message, and may require the
// field:
//
//   RETURN_IF_ERROR(ReadJsonFieldAt(object, "decoder", "heads", &heads));  // "decoder.heads: expected ..."
//
// Types: std::string, bool, integers (an unsigned one refuses a negative value), floating point (any
// JSON number). Thread safety: pure functions.
#ifndef MIVLA_CORE_UTIL_JSON_FIELD_H_
#define MIVLA_CORE_UTIL_JSON_FIELD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace mivla {

/// false: `key` is absent (or null, with `null_is_absent`) and *out is untouched; true: *out was set.
/// INVALID_ARGUMENT "expected <type>, got <value>" (or "must not be negative") when the value does not fit.
template <typename T>
absl::StatusOr<bool> ReadJsonField(const nlohmann::json& object, std::string_view key, T* out,
                                   bool null_is_absent = false) {
  const auto it = object.find(key);
  if (it == object.end() || (null_is_absent && it->is_null())) return false;
  const nlohmann::json& v = *it;
  const auto wrong = [&v](const char* want) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", want, ", got ", v.dump()));
  };
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) return wrong("a string");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) return wrong("true or false");
  } else if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) return wrong("an integer");  // true for unsigned JSON values too
    if constexpr (std::is_unsigned_v<T>) {
      if (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0) {
        return absl::InvalidArgumentError("must not be negative");
      }
    }
  } else {
    static_assert(std::is_floating_point_v<T>, "ReadJsonField: string, bool, integer or floating point");
    if (!v.is_number()) return wrong("a number");
  }
  *out = v.get<T>();
  return true;
}

/// ReadJsonField of `key` in the object at `where` (a dotted path; empty: the top level), its error as
/// INVALID_ARGUMENT "<where>.<key>: <why>". An absent field leaves *out untouched; OK unless `required`
/// ("<where>.<key>: missing").
template <typename T>
absl::Status ReadJsonFieldAt(const nlohmann::json& object, std::string_view where, std::string_view key, T* out,
                             bool required = false) {
  const absl::StatusOr<bool> read = ReadJsonField(object, key, out);
  if (read.ok() && (*read || !required)) return absl::OkStatus();
  std::string path(where);
  if (!path.empty()) path += ".";
  path += key;
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", read.ok() ? "missing" : read.status().message()));
}

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_JSON_FIELD_H_
