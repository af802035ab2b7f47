// File: openmp_wait.h
// Makes the OpenMP threads of LibTorch sleep, not spin, while they wait for work.
//
// Debian's LibTorch runs its CPU kernels on libgomp, whose default is to spin for a while at every
// barrier. When the CPU is shared (a second ctest job, another pod on the node, the server's own
// encode stage, decode stage and model loader running at once), a spinning thread takes the time slice
// that the thread holding the work needs, and every one of the model's thousands of small parallel
// regions waits a scheduler tick. Measured on the 2-core build machine with two busy processes beside
// it, one tiny-model decode took 4908 ms with the default policy and 133 ms with OMP_WAIT_POLICY=PASSIVE
// (47 and 48 ms on an idle machine: no cost when the CPU is free).
//
// libgomp reads OMP_WAIT_POLICY once, when it is loaded, before main() runs. So the only way a binary
// can choose it for itself is to set it and execute itself again, first thing in main():
//
//   int main(int argc, char** argv) {
//     mivla::PreferPassiveOpenMpWait(argv);
//     ...
//
// Nothing happens when OMP_WAIT_POLICY is already set (an operator who wants ACTIVE keeps it; the
// container image sets PASSIVE, so it never re-executes there). The process id stays the same. If the
// re-execution fails, the binary goes on with the default policy and says so on stderr.
#ifndef MIVLA_CORE_UTIL_OPENMP_WAIT_H_
#define MIVLA_CORE_UTIL_OPENMP_WAIT_H_

namespace mivla {

inline constexpr char kOpenMpWaitPolicyVar[] = "OMP_WAIT_POLICY";

/// Sets OMP_WAIT_POLICY=PASSIVE and re-executes /proc/self/exe with `argv` when the variable is unset.
/// Call before any thread starts. Returns only when nothing was done or exec failed.
void PreferPassiveOpenMpWait(char** argv);

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_OPENMP_WAIT_H_
