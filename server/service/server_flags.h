// File: server_flags.h
// mivla-server's command line: `--name=value` or `--name value` (booleans also bare `--name`), plus
// `--config-file FILE`, a JSON object whose keys are flag names (without dashes) and whose values are
// strings, numbers or booleans; flags given on the command line override the file. `--help` lists every
// flag with its meaning and default. Errors are INVALID_ARGUMENT naming the flag (or the config file).
#ifndef MIVLA_SERVER_SERVICE_SERVER_FLAGS_H_
#define MIVLA_SERVER_SERVICE_SERVER_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/service/server_options.h"

namespace mivla::server {

struct ParsedFlags {
  ServerOptions options;
  bool help = false;
};

absl::StatusOr<ParsedFlags> ParseServerFlags(int argc, const char* const* argv, ServerOptions defaults = {});

/// The --help text (every flag, its meaning and its default).
std::string ServerFlagsHelp(const ServerOptions& defaults = {});

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_SERVER_FLAGS_H_
