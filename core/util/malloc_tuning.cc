// File: malloc_tuning.cc
#include "core/util/malloc_tuning.h"

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace mivla {
namespace {

// gperftools' C entry points (gperftools/tcmalloc.h, malloc_extension_c.h), looked up at run time so that
// this library builds and answers without them.
using TcVersionFn = const char* (*)(int*, int*, const char**);
using GetNumericPropertyFn = int (*)(const char*, size_t*);
using ReleaseFreeMemoryFn = void (*)();

void* Symbol(const char* name) { return dlsym(RTLD_DEFAULT, name); }

// The C library's own malloc (not what `malloc` resolves to when another allocator interposes it).
void* LibcMalloc() {
  static void* const libc_malloc = [] {
    void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    return libc != nullptr ? dlsym(libc, "malloc") : nullptr;
  }();
  return libc_malloc;
}

}  // namespace

Allocator ProcessAllocator() {
  void* malloc_fn = Symbol("malloc");
  void* tc_malloc = Symbol("tc_malloc");
  if (tc_malloc != nullptr && tc_malloc == malloc_fn) return Allocator::kTcmalloc;
  return malloc_fn == LibcMalloc() ? Allocator::kGlibc : Allocator::kOther;
}

std::string AllocatorName() {
  if (ProcessAllocator() == Allocator::kTcmalloc) {
    auto version = reinterpret_cast<TcVersionFn>(Symbol("tc_version"));
    return std::string("tcmalloc (") + (version != nullptr ? version(nullptr, nullptr, nullptr) : "gperftools") + ")";
  }
  if (ProcessAllocator() == Allocator::kGlibc) return std::string("glibc ") + gnu_get_libc_version();
  return "another allocator (not glibc's or tcmalloc)";
}

int64_t HeapBytesInUse() {
  if (ProcessAllocator() == Allocator::kTcmalloc) {
    auto get = reinterpret_cast<GetNumericPropertyFn>(Symbol("MallocExtension_GetNumericProperty"));
    size_t bytes = 0;
    if (get != nullptr && get("generic.current_allocated_bytes", &bytes)) return static_cast<int64_t>(bytes);
    return -1;
  }
  if (ProcessAllocator() != Allocator::kGlibc) return -1;
  const struct mallinfo2 m = ::mallinfo2();
  return static_cast<int64_t>(m.uordblks + m.hblkhd);
}

void ReleaseFreeHeap() {
  if (ProcessAllocator() == Allocator::kTcmalloc) {
    auto release = reinterpret_cast<ReleaseFreeMemoryFn>(Symbol("MallocExtension_ReleaseFreeMemory"));
    if (release != nullptr) release();
    return;
  }
  if (ProcessAllocator() == Allocator::kGlibc) ::malloc_trim(0);
}

int64_t ReleaseFreeHeapAbove(int64_t keep_bytes) {
  if (ProcessAllocator() != Allocator::kTcmalloc) return 0;
  auto get = reinterpret_cast<GetNumericPropertyFn>(Symbol("MallocExtension_GetNumericProperty"));
  auto release = reinterpret_cast<ReleaseFreeMemoryFn>(Symbol("MallocExtension_ReleaseFreeMemory"));
  size_t free_bytes = 0;
  if (get == nullptr || release == nullptr || !get("tcmalloc.pageheap_free_bytes", &free_bytes)) return 0;
  if (static_cast<int64_t>(free_bytes) <= std::max<int64_t>(keep_bytes, 0)) return 0;
  release();
  return static_cast<int64_t>(free_bytes);
}

bool FixMallocMmapThreshold(size_t bytes) {
  if (ProcessAllocator() != Allocator::kGlibc) return false;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.mmap_threshold") != nullptr) return false;
  if (bytes < (size_t{128} << 10) || bytes > (size_t{32} << 20)) return false;
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes)) == 1;
}

}  // namespace mivla
