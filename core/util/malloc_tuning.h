// File: malloc_tuning.h
// The process's memory allocator: which one is in force, what it holds, and its settings for long-running
// servers.
//
// Every MiVLA executable links gperftools' tcmalloc (cmake/Dependencies.cmake, MIVLA_MALLOC): LibTorch
// allocates and frees each op's activations; glibc returns the pages of large freed blocks to the kernel
// (its trim and mmap thresholds), so the next op faults them in again, 4 KiB at a time, where tcmalloc
// keeps them. A build with -DMIVLA_MALLOC=system runs on glibc's, and a process may preload yet another
// one; the functions below ask at run time which one serves malloc (tcmalloc's `tc_malloc`, or the C
// library's own `malloc`), so they answer for the process as it runs, however it was linked.
//
// glibc only: by default glibc raises its mmap threshold after a large mapped block is freed (up to
// 32 MiB), so later large blocks come from the arenas, which keep their pages: mivla-server's resident
// memory grew by half within minutes of a client sending 15 MB strings and 2.7 MB images
// (mivla-bench-server --soak: 335 -> 509 MB while the bytes in use fell), and periodic malloc_trim(0)
// did not give it back. A fixed threshold stops the raise: blocks of at least that size are mapped and
// unmapped on free. 8 MiB keeps LibTorch's activations of the tiny model in the arenas (a 1 MiB
// threshold made a batch-16 decode 3-5x slower by mapping them per op).
// Process-wide; thread-safe (both allocators lock what they change).
#ifndef MIVLA_CORE_UTIL_MALLOC_TUNING_H_
#define MIVLA_CORE_UTIL_MALLOC_TUNING_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace mivla {

inline constexpr size_t kServerMmapThresholdBytes = size_t{8} << 20;

enum class Allocator { kGlibc, kTcmalloc, kOther };  // kOther: e.g. a preloaded jemalloc

/// The allocator behind this process's malloc.
Allocator ProcessAllocator();

/// "tcmalloc (gperftools 2.10)", "glibc 2.36" or "another allocator (not glibc's or tcmalloc)": for
/// start-up logs and benchmark JSON.
std::string AllocatorName();

/// Bytes handed out by malloc and not freed yet (unlike RSS, not raised by free pages the allocator
/// keeps): tcmalloc's generic.current_allocated_bytes, or glibc's in-use arena and mapped bytes; -1 under
/// another allocator, or when tcmalloc does not say.
int64_t HeapBytesInUse();

/// What the allocator holds, in bytes; -1 where this allocator does not say. The part of the process's
/// resident memory that is the heap, split by who holds it, so that growth can be told apart from
/// memory outside the heap (thread stacks, libraries' pages, other mappings).
/// Under glibc only `in_use` is known: its arena figures (mallinfo2's arena, fordblks) are address space,
/// not resident memory (malloc_trim gives pages back without changing them).
struct HeapStats {
  int64_t in_use = -1;          // handed out and not freed (HeapBytesInUse)
  int64_t mapped = -1;          // tcmalloc: generic.total_physical_bytes (what it holds mapped and not
                                // given back: in use, free page heap, caches, its metadata)
  int64_t page_heap_free = -1;  // tcmalloc: free pages its page heap keeps mapped (HeapFreeBytes)
  int64_t thread_caches = -1;   // tcmalloc: free blocks in the threads' caches
  int64_t central_caches = -1;  // tcmalloc: free blocks in its central and transfer caches
};

/// The allocator's figures now (see HeapStats), read one property at a time (other threads may move
/// them in between); all -1 under another allocator.
HeapStats ReadHeapStats();

/// Returns the allocator's free pages to the kernel: tcmalloc's ReleaseFreeMemory, glibc's malloc_trim(0);
/// nothing under another allocator.
void ReleaseFreeHeap();

/// tcmalloc only: the free pages its page heap keeps mapped (tcmalloc.pageheap_free_bytes); -1 under
/// any other allocator (glibc unmaps large blocks itself: FixMallocMmapThreshold).
int64_t HeapFreeBytes();

/// tcmalloc only: gives back about `bytes` (at most what is free) of its page heap's free pages to the
/// kernel (whole spans, in tcmalloc's order, so possibly more) and returns the growth of its unmapped
/// bytes meanwhile (other threads' frees and releases move it too); 0 under any other allocator or for
/// bytes <= 0.
int64_t ReleaseFreeHeapBytes(int64_t bytes);

/// glibc only: fixes the mmap threshold at `bytes` (128 KiB .. 32 MiB), unless GLIBC_TUNABLES sets
/// glibc.malloc.mmap_threshold (the operator's choice wins). Returns whether it set it; false under
/// any other allocator.
bool FixMallocMmapThreshold(size_t bytes);

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_MALLOC_TUNING_H_
