#include "core/util/flag_parser.h"

#include <cstdio>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mivla {

void FlagParser::AddString(const std::string& name, std::string* value, const std::string& help, bool show_default) {
  flags_.push_back({name, Kind::kString, value, help, show_default ? *value : ""});
}
void FlagParser::AddInt(const std::string& name, int64_t* value, const std::string& help, bool show_default) {
  flags_.push_back({name, Kind::kInt, value, help, show_default ? absl::StrCat(*value) : ""});
}
void FlagParser::AddDouble(const std::string& name, double* value, const std::string& help, bool show_default) {
  flags_.push_back({name, Kind::kDouble, value, help, show_default ? absl::StrCat(*value) : ""});
}
void FlagParser::AddBool(const std::string& name, bool* value, const std::string& help, bool show_default) {
  flags_.push_back({name, Kind::kBool, value, help, !show_default ? "" : *value ? "true" : "false"});
}

const FlagParser::Flag* FlagParser::Find(const std::string& name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::Status FlagParser::Assign(const Flag& flag, const std::string& text) {
  switch (flag.kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag.value) = text;
      break;
    case Kind::kInt:
      if (!absl::SimpleAtoi(text, static_cast<int64_t*>(flag.value))) {
        return absl::InvalidArgumentError(absl::StrCat("--", flag.name, ": '", text, "' is not an integer"));
      }
      break;
    case Kind::kDouble:
      if (!absl::SimpleAtod(text, static_cast<double*>(flag.value))) {
        return absl::InvalidArgumentError(absl::StrCat("--", flag.name, ": '", text, "' is not a number"));
      }
      break;
    case Kind::kBool:
      if (text == "true" || text == "1") {
        *static_cast<bool*>(flag.value) = true;
      } else if (text == "false" || text == "0") {
        *static_cast<bool*>(flag.value) = false;
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--", flag.name, ": '", text, "' is not true or false"));
      }
      break;
  }
  seen_.insert(flag.name);
  return absl::OkStatus();
}

absl::Status FlagParser::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    const bool has_value = eq != std::string::npos;
    if (has_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const Flag* flag = Find(name);
    if (flag == nullptr && !has_value && name.compare(0, 3, "no-") == 0) {
      const Flag* negated = Find(name.substr(3));
      if (negated != nullptr && negated->kind == Kind::kBool) {
        *static_cast<bool*>(negated->value) = false;
        seen_.insert(negated->name);
        continue;
      }
    }
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    if (!has_value) {
      if (flag->kind == Kind::kBool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
    }
    if (absl::Status s = Assign(*flag, value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status FlagParser::ParseFlagsOnly(int argc, const char* const* argv) {
  if (Find("help") == nullptr) AddBool("help", &help_, "this list", false);
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.push_back(std::string(argv[i]) == "-h" ? "--help" : argv[i]);
  if (absl::Status s = Parse(args); !s.ok()) {
    if (s.message().rfind("unknown flag", 0) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(s.message(), " (see --help)"));
    }
    return s;
  }
  if (!positional_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", positional_.front(), "' (flags start with --; see --help)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> FlagParser::ParseFlagsOrPrintHelp(int argc, const char* const* argv, std::string_view epilogue) {
  const absl::Status parsed = ParseFlagsOnly(argc, argv);
  // Parsing stops at the first bad flag; a --help after it still asks for the list.
  for (int i = 1; i < argc && !parsed.ok() && !help_; ++i) {
    help_ = std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h";
  }
  if (help_) {
    std::fputs(Usage().c_str(), stdout);
    std::fwrite(epilogue.data(), 1, epilogue.size(), stdout);
    std::fflush(stdout);
    return true;
  }
  if (!parsed.ok()) return parsed;
  return false;
}

std::optional<int> FlagParser::ParseFlagsForMain(int argc, const char* const* argv, std::string_view program) {
  const absl::StatusOr<bool> helped = ParseFlagsOrPrintHelp(argc, argv);
  if (!helped.ok()) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
                 std::string(helped.status().message()).c_str());
    return 2;
  }
  if (*helped) return 0;
  return std::nullopt;
}

std::string FlagParser::Usage() const {
  std::string out = absl::StrCat("usage: ", usage_line_, "\n");
  for (const Flag& f : flags_) {
    absl::StrAppendFormat(&out, "  --%-22s %s", f.name, f.help);
    if (!f.default_text.empty()) absl::StrAppend(&out, " (default ", f.default_text, ")");
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace mivla
