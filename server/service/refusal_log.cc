#include "server/service/refusal_log.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/inference/string_checks.h"

namespace mivla::server {

RefusalLog::RefusalLog(Options options) : options_(std::move(options)), tokens_(options_.burst) {}

std::string RefusalLog::FieldOf(const absl::Status& s) {
  const absl::string_view m = s.message();
  const size_t colon = m.find(": ");
  if (colon == absl::string_view::npos || colon == 0 || colon > 80) return "";
  for (char c : m.substr(0, colon)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '[' && c != ']') return "";
  }
  return std::string(m.substr(0, colon));
}

bool RefusalLog::Record(const Refusal& r, absl::Time now) {
  int64_t suppressed;
  {
    absl::MutexLock lock(&mu_);
    if (refilled_ != absl::InfinitePast()) {
      tokens_ = std::min<double>(options_.burst, tokens_ + absl::ToDoubleSeconds(now - refilled_) * options_.lines_per_second);
    }
    refilled_ = now;
    if (tokens_ < 1) {
      ++suppressed_since_last_;
      ++suppressed_total_;
      return false;
    }
    tokens_ -= 1;
    suppressed = std::exchange(suppressed_since_last_, 0);
  }
  const size_t v = options_.max_value_bytes;
  nlohmann::json j;
  j["event"] = "refused";
  j["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", now, absl::UTCTimeZone());
  j["rpc"] = r.rpc;
  j["code"] = absl::StatusCodeToString(r.status.code());
  j["session"] = ClipForEcho(r.session, v);
  j["client"] = ClipForEcho(r.client, v);
  j["peer"] = ClipForEcho(r.peer, v);
  if (!r.robot_id.empty()) j["robot_id"] = ClipForEcho(r.robot_id, v);
  j["field"] = FieldOf(r.status);
  j["message"] = ClipForEcho(r.status.message(), options_.max_message_bytes);
  if (suppressed > 0) j["suppressed"] = suppressed;
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (options_.sink) {
    options_.sink(line);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  return true;
}

int64_t RefusalLog::suppressed_total() const {
  absl::MutexLock lock(&mu_);
  return suppressed_total_;
}

}  // namespace mivla::server
