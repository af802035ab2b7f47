// File: blas_threads.cc
#include "core/model/blas_threads.h"

#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/util/read_file.h"

namespace mivla::model {
namespace {

// OpenBLAS's own entry points, found at run time: LibTorch reaches BLAS through the generic
// libblas.so.3, which Debian points at OpenBLAS, the reference BLAS or another by alternatives.
using SetFn = void (*)(int);
using GetFn = int (*)();
SetFn OpenBlasSet() { return reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")); }
GetFn OpenBlasGet() { return reinterpret_cast<GetFn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads")); }

}  // namespace

int CpusFromCgroupQuota(const std::string& quota_and_period) {
  std::istringstream in(quota_and_period);
  std::string quota;
  int64_t period = 0;
  if (!(in >> quota >> period) || period <= 0 || quota == "max") return -1;
  int64_t q = 0;
  if (!absl::SimpleAtoi(quota, &q) || q <= 0) return -1;
  return static_cast<int>(std::max<int64_t>(1, (q + period - 1) / period));
}

int UsableCpus() {
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) cpus = CPU_COUNT(&set);
  // A cgroup file that is missing or unreadable means no quota.
  auto read = [](const char* path) { return ReadFile(path).value_or(""); };
  int quota = CpusFromCgroupQuota(read("/sys/fs/cgroup/cpu.max"));
  if (quota < 0) {
    quota = CpusFromCgroupQuota(
        absl::StrCat(read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), " ", read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")));
  }
  if (quota > 0 && (cpus <= 0 || quota < cpus)) cpus = quota;
  return std::max(1, cpus);
}

int DefaultBlasThreads() { return std::max(1, UsableCpus() - 1); }

int BlasThreads() {
  GetFn get = OpenBlasGet();
  return get != nullptr ? get() : -1;
}

absl::StatusOr<int> ApplyBlasThreads(int requested) {
  if (requested < -1 || requested > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("--blas-threads: ", requested, " is not -1 (auto), 0 (the library's default) or 1..1024"));
  }
  if (requested == 0) return BlasThreads();
  if (requested == -1) {
    const char* env = std::getenv("OPENBLAS_NUM_THREADS");
    if (env != nullptr && *env != '\0') return BlasThreads();
    requested = DefaultBlasThreads();
  }
  SetFn set = OpenBlasSet();
  if (set == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("--blas-threads: cannot set ", requested,
                                                      " threads: the BLAS library in this process is not OpenBLAS"));
  }
  set(requested);
  return BlasThreads();
}

}  // namespace mivla::model
