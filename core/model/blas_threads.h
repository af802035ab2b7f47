// File: blas_threads.h
// How many threads the BLAS library under LibTorch (Debian's: OpenBLAS, pthreads) may use for one
// matrix product. OpenBLAS splits each product across its threads and waits for the slowest, spinning
// (sched_yield) meanwhile; with one thread per core, any other work on the machine (a server's gRPC
// handlers and image decoding, a simulator beside it) makes every product wait for a preempted half.
// Measured with mivla-bench-server --soak on the 2-CPU machine: with 2 BLAS threads the robots' chunk
// rate fell from 42 to 22-26 per second beside the hostile client, with 1 it stayed at 42-43.
// Process-wide; call it before the first model runs (it is safe later too).
#ifndef MIVLA_CORE_MODEL_BLAS_THREADS_H_
#define MIVLA_CORE_MODEL_BLAS_THREADS_H_

#include <string>

#include "absl/status/statusor.h"

namespace mivla::model {

/// The CPUs this process may use: those in its affinity mask, capped by a cgroup CPU quota (a
/// Kubernetes CPU limit: cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`), rounded
/// up. A container on a large node sees the node's cores in std::thread::hardware_concurrency().
int UsableCpus();

/// The CPUs a cgroup CPU quota allows, rounded up: "400000 100000" (v2 `cpu.max`) -> 4,
/// "150000 100000" -> 2; -1 for "max ..." (no quota) or text it cannot read.
int CpusFromCgroupQuota(const std::string& quota_and_period);

/// The default for a process that shares the CPU with other work: one thread per usable CPU but one
/// (at least one), leaving a core for everything that is not a matrix product.
int DefaultBlasThreads();

/// Applies a `--blas-threads` value and returns the BLAS thread count now in force:
/// - `-1` (auto): OPENBLAS_NUM_THREADS, when set, wins (the library read it at load); else DefaultBlasThreads();
/// - `0`: the library's own setting, unchanged (OpenBLAS: one thread per core);
/// - `1..1024`: that many.
/// INVALID_ARGUMENT ("--blas-threads: ...") outside those; FAILED_PRECONDITION when a count is asked for
/// and the process's BLAS cannot set one (not OpenBLAS).
absl::StatusOr<int> ApplyBlasThreads(int requested);

/// The BLAS library's current thread count; -1 when it cannot tell (not OpenBLAS).
int BlasThreads();

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_BLAS_THREADS_H_
