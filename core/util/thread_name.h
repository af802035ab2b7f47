// File: thread_name.h
// Names the calling thread for the tools a person diagnoses a live process with (top -H, ps -L, perf
// sched, gdb's "info threads"): "decode-0" instead of a copy of the executable's name. Linux keeps at
// most 15 bytes of a thread's name; longer names are cut there.
//
//   workers_.push_back(StartNamedThread(absl::StrCat(name_, "-", i), [this] { Loop(); }));
//
// Thread safety: each call names only the calling thread.
#ifndef MIVLA_CORE_UTIL_THREAD_NAME_H_
#define MIVLA_CORE_UTIL_THREAD_NAME_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace mivla {

/// The most bytes of a thread's name the kernel keeps (16 with the terminating NUL).
inline constexpr std::size_t kMaxThreadNameBytes = 15;

/// Names the calling thread `name`, cut to kMaxThreadNameBytes. Best effort: a failure is ignored
/// (the name is a diagnostic aid only).
void SetThisThreadName(std::string_view name);

/// The calling thread's name as the kernel reports it ("" when it cannot be read).
std::string ThisThreadName();

/// A thread that names itself `name` (SetThisThreadName), then runs `body`.
template <typename Body>
std::thread StartNamedThread(std::string name, Body&& body) {
  return std::thread([name = std::move(name), body = std::forward<Body>(body)]() mutable {
    SetThisThreadName(name);
    body();
  });
}

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_THREAD_NAME_H_
