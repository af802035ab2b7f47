// File: read_file.h
// The whole contents of a file, read in binary mode: the one whole-file reader the project's modules
// share (configs, PEM files, tokenizer models, /proc and cgroup files).
//
//   ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//
// Errors name the path and the reason (strerror): NOT_FOUND when the file (or a folder on its path) does
// not exist, PERMISSION_DENIED when it may not be opened, FAILED_PRECONDITION for a folder, DATA_LOSS
// when reading fails part-way; other open errors keep the errno's code.
//
// Thread-safety: a pure function of the file's state; callable from any thread.
#ifndef MIVLA_CORE_UTIL_READ_FILE_H_
#define MIVLA_CORE_UTIL_READ_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace mivla {

/// The bytes of the file at `path`, exactly (NULs and all); empty for an empty file.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_READ_FILE_H_
