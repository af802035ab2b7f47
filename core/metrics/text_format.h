// File: text_format.h
// Helpers for the Prometheus text exposition format 0.0.4: name validation, escaping, number
// formatting, and reading one sample's value back from a scrape. Pure functions; thread-safe.
#ifndef MIVLA_SERVER_METRICS_TEXT_FORMAT_H_
#define MIVLA_SERVER_METRICS_TEXT_FORMAT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace mivla::metrics {

/// True when `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(absl::string_view name);

/// True when `name` matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with "__" (reserved).
bool IsValidLabelName(absl::string_view name);

/// Escapes a label value: backslash -> \\, double quote -> \", newline -> \n.
std::string EscapeLabelValue(absl::string_view value);

/// Escapes HELP text: backslash -> \\, newline -> \n (quotes stay as they are).
std::string EscapeHelp(absl::string_view help);

/// Formats a sample value: "+Inf", "-Inf", "NaN", integers without exponent or fraction
/// ("3", "-2", "1e+21" only beyond 2^53), otherwise the shortest round-tripping decimal.
std::string FormatValue(double value);

/// The value of the sample line `name_and_labels value` in `scrape` (labels exactly as exposed, e.g.
/// `mivla_batch_size_count{stage="decode"}`; blanks or tabs before the value, a trailing timestamp
/// ignored); nullopt when there is no such line or its value does not parse.
std::optional<double> SampleValue(absl::string_view scrape, absl::string_view name_and_labels);

}  // namespace mivla::metrics

#endif  // MIVLA_SERVER_METRICS_TEXT_FORMAT_H_
