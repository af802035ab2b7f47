// File: exit_code.h
// The end of main() in mivla-robot, mivla-eval and mivla-bench-client: a failed run prints
// "<program>: <message>" on standard error; the exit status is 0 on success, 2 for a usage error
// (InvalidArgument or NotFound: bad flags, a missing or bad file) and 1 for any other failure.
//
//   int main(int argc, char** argv) { return ExitCode("mivla-eval", Main(argc, argv)); }
//
// Thread-compatible (writes to stderr).
#ifndef MIVLA_CLIENT_TOOLS_EXIT_CODE_H_
#define MIVLA_CLIENT_TOOLS_EXIT_CODE_H_

#include "absl/status/status.h"

namespace mivla::client {

int ExitCode(const char* program, const absl::Status& status);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_TOOLS_EXIT_CODE_H_
