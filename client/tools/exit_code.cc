// File: exit_code.cc
#include "client/tools/exit_code.h"

#include <cstdio>
#include <string>

namespace mivla::client {

int ExitCode(const char* program, const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "%s: %s\n", program, std::string(status.message()).c_str());
  const absl::StatusCode c = status.code();
  return c == absl::StatusCode::kInvalidArgument || c == absl::StatusCode::kNotFound ? 2 : 1;
}

}  // namespace mivla::client
