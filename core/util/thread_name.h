// File: thread_name.h
// Names the calling thread for the tools a person diagnoses a live process with (top -H, ps -L, perf
// sched, gdb's "info threads"): "decode-0" instead of a copy of the executable's name. Linux keeps at
// most 15 bytes of a thread's name; longer names are cut there.
//
//   workers_.emplace_back([this, i] { SetThisThreadName(absl::StrCat(name_, "-", i)); Loop(); });
//
// Thread safety: each call names only the calling thread.
#ifndef MIVLA_CORE_UTIL_THREAD_NAME_H_
#define MIVLA_CORE_UTIL_THREAD_NAME_H_

#include <string>
#include <string_view>

namespace mivla {

/// The most bytes of a thread's name the kernel keeps (16 with the terminating NUL).
inline constexpr size_t kMaxThreadNameBytes = 15;

/// Names the calling thread `name`, cut to kMaxThreadNameBytes. Best effort: a failure is ignored
/// (the name is a diagnostic aid only).
void SetThisThreadName(std::string_view name);

/// The calling thread's name as the kernel reports it ("" when it cannot be read).
std::string ThisThreadName();

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_THREAD_NAME_H_
