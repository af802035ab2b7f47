// File: flag_set.cc
#include "client/tools/flag_set.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mivla::client {

void FlagSet::String(const std::string& name, std::string* target, const std::string& help) {
  flags_.push_back({name, help, target->empty() ? "\"\"" : *target, false, [target](const std::string& v) {
                      *target = v;
                      return true;
                    }});
}

void FlagSet::Int(const std::string& name, int64_t* target, const std::string& help) {
  flags_.push_back({name, help, absl::StrCat(*target), false,
                    [target](const std::string& v) { return absl::SimpleAtoi(v, target); }});
}

void FlagSet::Double(const std::string& name, double* target, const std::string& help) {
  flags_.push_back({name, help, absl::StrCat(*target), false,
                    [target](const std::string& v) { return absl::SimpleAtod(v, target); }});
}

void FlagSet::Bool(const std::string& name, bool* target, const std::string& help) {
  flags_.push_back({name, help, *target ? "true" : "false", true,
                    [target](const std::string& v) { return absl::SimpleAtob(v, target); }});
}

absl::Status FlagSet::Parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "' (flags start with --; see --help)"));
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : flags_) {
      if (f.name == name) flag = &f;
    }
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    if (!has_value) {
      if (flag->boolean) {
        value = "true";
      } else {
        if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
        value = argv[++i];
      }
    }
    if (!flag->set(value)) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": '", value, "' is not a valid value"));
    }
  }
  return absl::OkStatus();
}

std::string FlagSet::Help() const {
  std::string out = absl::StrCat("usage: ", usage_, "\n\nflags:\n");
  for (const Flag& f : flags_) {
    absl::StrAppend(&out, "  --", f.name, f.boolean ? "" : " VALUE", "\n      ", f.help, " (default: ", f.default_value,
                    ")\n");
  }
  absl::StrAppend(&out, "  --help\n      this list\n");
  return out;
}

}  // namespace mivla::client
