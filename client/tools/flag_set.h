// File: flag_set.h
// A small declarative command-line parser shared by mivla-robot, mivla-eval and mivla-bench-client:
// each flag is bound to a variable with a help line; `--name VALUE` or `--name=VALUE`; booleans take no
// value (`--json`) or an explicit one (`--json=false`). Errors name the flag and the reason; --help
// lists every flag with its default.
//
//   FlagSet f("mivla-robot --embodiment E --server HOST:PORT [flags]");
//   f.String("server", &server, "policy server HOST:PORT");
//   absl::Status s = f.Parse(argc, argv);  if (f.help_requested()) { puts(f.Help().c_str()); }
//
// Not thread-safe (used once, in main).
#ifndef MIVLA_CLIENT_TOOLS_FLAG_SET_H_
#define MIVLA_CLIENT_TOOLS_FLAG_SET_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace mivla::client {

class FlagSet {
 public:
  explicit FlagSet(std::string usage) : usage_(std::move(usage)) {}

  void String(const std::string& name, std::string* target, const std::string& help);
  void Int(const std::string& name, int64_t* target, const std::string& help);
  void Double(const std::string& name, double* target, const std::string& help);
  void Bool(const std::string& name, bool* target, const std::string& help);

  /// InvalidArgument naming the flag for an unknown flag, a missing or malformed value, or a
  /// positional argument.
  absl::Status Parse(int argc, char** argv);
  bool help_requested() const { return help_; }
  std::string Help() const;

 private:
  struct Flag {
    std::string name, help, default_value;
    bool boolean = false;
    std::function<bool(const std::string&)> set;  // false: malformed
  };
  std::string usage_;
  std::vector<Flag> flags_;
  bool help_ = false;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_TOOLS_FLAG_SET_H_
