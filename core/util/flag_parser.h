// File: flag_parser.h
// One small command-line parser for the project's binaries: register flags with a pointer to where the
// value goes, then parse. "--name value" and "--name=value"; booleans as "--name" (true),
// "--name=true|false" and "--no-name"; positional arguments are collected in order. Every error names
// the flag and the reason: an unknown flag, a missing value, a value that is not a number.
//
//   FlagParser p("mivla-train pretrain|finetune --config FILE [flags]");
//   p.AddString("config", &config_path, "training configuration (JSON)");
//   p.AddInt("steps", &steps, "train until this step");
//   p.AddBool("resume", &resume, "continue from the newest training state");
//   RETURN_IF_ERROR(p.Parse(args));           // args without argv[0]
//   if (p.seen("steps")) ...                  // whether a flag was given (for "flags override config")
//   RETURN_IF_ERROR(p.ParseFlagsOnly(argc, argv));  // or: no positional arguments, --help / -h built in
//
// A binary's main that takes flags only:
//   absl::Status Main(int argc, char** argv) {              // returns the error ExitCode-style mains print
//     ASSIGN_OR_RETURN(const bool helped, p.ParseFlagsOrPrintHelp(argc, argv));
//     if (helped) return absl::OkStatus();
//   int main(int argc, char** argv) {                       // or a main that returns its exit status
//     if (std::optional<int> exit = p.ParseFlagsForMain(argc, argv, "mivla-bench-sim")) return *exit;
//
// Not thread-safe; the pointers must outlive Parse.
#ifndef MIVLA_CORE_UTIL_FLAG_PARSER_H_
#define MIVLA_CORE_UTIL_FLAG_PARSER_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mivla {

class FlagParser {
 public:
  explicit FlagParser(std::string usage_line) : usage_line_(std::move(usage_line)) {}

  void AddString(const std::string& name, std::string* value, const std::string& help, bool show_default = true);
  void AddInt(const std::string& name, int64_t* value, const std::string& help, bool show_default = true);
  void AddDouble(const std::string& name, double* value, const std::string& help, bool show_default = true);
  void AddBool(const std::string& name, bool* value, const std::string& help, bool show_default = true);

  /// Parses `args` (without the program name). InvalidArgument names the flag and the reason.
  absl::Status Parse(const std::vector<std::string>& args);

  /// For binaries that take flags only: parses argv[1..argc). "--help" and "-h" set help_requested()
  /// (a "help" flag, "this list", is registered unless the caller registered one); an unknown flag's
  /// error ends in "(see --help)"; a positional argument is InvalidArgument
  /// "unexpected argument 'x' (flags start with --; see --help)".
  absl::Status ParseFlagsOnly(int argc, const char* const* argv);
  bool help_requested() const { return help_; }

  /// ParseFlagsOnly, and on --help (which wins over a bad flag) prints Usage() and then `epilogue` to
  /// stdout and gives true: the caller exits 0 without doing anything else. Otherwise false, or the error.
  absl::StatusOr<bool> ParseFlagsOrPrintHelp(int argc, const char* const* argv, std::string_view epilogue = {});

  /// ParseFlagsOrPrintHelp for a `main` that returns its exit status: nullopt when the program should go
  /// on; 0 after printing the help; 2 after printing "program: <error>" to stderr.
  std::optional<int> ParseFlagsForMain(int argc, const char* const* argv, std::string_view program);

  bool seen(const std::string& name) const { return seen_.count(name) > 0; }
  const std::vector<std::string>& positional() const { return positional_; }
  /// The usage line and one line per flag with its help and (unless show_default was false) default.
  std::string Usage() const;

 private:
  enum class Kind { kString, kInt, kDouble, kBool };
  struct Flag {
    std::string name;
    Kind kind;
    void* value;
    std::string help;
    std::string default_text;
  };
  const Flag* Find(const std::string& name) const;
  absl::Status Assign(const Flag& flag, const std::string& text);

  std::string usage_line_;
  std::vector<Flag> flags_;
  std::set<std::string> seen_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_FLAG_PARSER_H_
