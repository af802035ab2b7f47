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
// this library builds and answers without them; null where absent.
struct TcmallocApi {
  const char* (*version)(int*, int*, const char**) = nullptr;
  int (*get_numeric_property)(const char*, size_t*) = nullptr;
  void (*release_free_memory)() = nullptr;
  void (*release_to_system)(size_t) = nullptr;
};

// The allocator behind `malloc` and tcmalloc's entry points: fixed once the process runs, so read once.
struct ProcessMalloc {
  Allocator allocator = Allocator::kGlibc;
  TcmallocApi tc;
};

const ProcessMalloc& Resolved() {
  static const ProcessMalloc resolved = [] {
    ProcessMalloc p;
    void* malloc_fn = dlsym(RTLD_DEFAULT, "malloc");
    void* tc_malloc = dlsym(RTLD_DEFAULT, "tc_malloc");
    if (tc_malloc != nullptr && tc_malloc == malloc_fn) {
      p.allocator = Allocator::kTcmalloc;
      p.tc.version = reinterpret_cast<decltype(p.tc.version)>(dlsym(RTLD_DEFAULT, "tc_version"));
      p.tc.get_numeric_property = reinterpret_cast<decltype(p.tc.get_numeric_property)>(
          dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty"));
      p.tc.release_free_memory = reinterpret_cast<decltype(p.tc.release_free_memory)>(
          dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"));
      p.tc.release_to_system =
          reinterpret_cast<decltype(p.tc.release_to_system)>(dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseToSystem"));
      return p;
    }
    // The C library's own malloc (not what `malloc` resolves to when another allocator interposes it).
    void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void* libc_malloc = libc != nullptr ? dlsym(libc, "malloc") : nullptr;
    p.allocator = malloc_fn == libc_malloc ? Allocator::kGlibc : Allocator::kOther;
    return p;
  }();
  return resolved;
}

// A numeric property of tcmalloc; -1 when it does not say.
int64_t TcProperty(const char* name) {
  size_t value = 0;
  const auto get = Resolved().tc.get_numeric_property;
  return get != nullptr && get(name, &value) ? static_cast<int64_t>(value) : -1;
}

}  // namespace

Allocator ProcessAllocator() { return Resolved().allocator; }

std::string AllocatorName() {
  switch (ProcessAllocator()) {
    case Allocator::kTcmalloc: {
      const auto version = Resolved().tc.version;
      return std::string("tcmalloc (") + (version != nullptr ? version(nullptr, nullptr, nullptr) : "gperftools") + ")";
    }
    case Allocator::kGlibc:
      return std::string("glibc ") + gnu_get_libc_version();
    case Allocator::kOther:
      break;
  }
  return "another allocator (not glibc's or tcmalloc)";
}

int64_t HeapBytesInUse() {
  switch (ProcessAllocator()) {
    case Allocator::kTcmalloc:
      return TcProperty("generic.current_allocated_bytes");
    case Allocator::kGlibc: {
      const struct mallinfo2 m = ::mallinfo2();
      return static_cast<int64_t>(m.uordblks + m.hblkhd);
    }
    case Allocator::kOther:
      break;
  }
  return -1;
}

HeapStats ReadHeapStats() {
  HeapStats h;
  switch (ProcessAllocator()) {
    case Allocator::kTcmalloc: {
      h.in_use = TcProperty("generic.current_allocated_bytes");
      h.mapped = TcProperty("generic.total_physical_bytes");
      h.page_heap_free = TcProperty("tcmalloc.pageheap_free_bytes");
      h.thread_caches = TcProperty("tcmalloc.current_total_thread_cache_bytes");
      const int64_t central = TcProperty("tcmalloc.central_cache_free_bytes");
      const int64_t transfer = TcProperty("tcmalloc.transfer_cache_free_bytes");
      h.central_caches = central >= 0 && transfer >= 0 ? central + transfer : -1;
      break;
    }
    case Allocator::kGlibc:
      h.in_use = HeapBytesInUse();  // its other figures are address space, not resident memory
      break;
    case Allocator::kOther:
      break;
  }
  return h;
}

void ReleaseFreeHeap() {
  if (ProcessAllocator() == Allocator::kTcmalloc) {
    if (const auto release = Resolved().tc.release_free_memory) release();
  } else if (ProcessAllocator() == Allocator::kGlibc) {
    ::malloc_trim(0);
  }
}

int64_t HeapFreeBytes() {
  return ProcessAllocator() == Allocator::kTcmalloc ? TcProperty("tcmalloc.pageheap_free_bytes") : -1;
}

int64_t ReleaseFreeHeapBytes(int64_t bytes) {
  const auto release = Resolved().tc.release_to_system;
  if (ProcessAllocator() != Allocator::kTcmalloc || release == nullptr) return 0;
  bytes = std::min(bytes, HeapFreeBytes());
  const int64_t unmapped_before = TcProperty("tcmalloc.pageheap_unmapped_bytes");
  if (bytes <= 0 || unmapped_before < 0) return 0;
  // ReleaseToSystem frees whole spans and remembers how far a span overshot a request; later requests up
  // to that much return at once without releasing anything. Ask again until `bytes` are out, or the page
  // heap has no free pages left (bounded either way).
  int64_t released = 0;
  for (int i = 0; i < 64 && released < bytes; ++i) {
    release(static_cast<size_t>(bytes - released));
    released = std::max<int64_t>(0, TcProperty("tcmalloc.pageheap_unmapped_bytes") - unmapped_before);
    if (HeapFreeBytes() <= 0) break;
  }
  return released;
}

bool FixMallocMmapThreshold(size_t bytes) {
  if (ProcessAllocator() != Allocator::kGlibc) return false;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.mmap_threshold") != nullptr) return false;
  if (bytes < (size_t{128} << 10) || bytes > (size_t{32} << 20)) return false;
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes)) == 1;
}

}  // namespace mivla
