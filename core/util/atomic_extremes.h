// File: atomic_extremes.h
// Lock-free running maximum / minimum of an atomic: `*a` becomes max(*a, v) (min(*a, v)) even when other
// threads update it at the same time. Thread-safe.
//
//   std::atomic<int64_t> longest{0};
//   AtomicMax(&longest, took_us);  // from any thread
#ifndef MIVLA_CORE_UTIL_ATOMIC_EXTREMES_H_
#define MIVLA_CORE_UTIL_ATOMIC_EXTREMES_H_

#include <atomic>

namespace mivla {

template <typename T>
void AtomicMax(std::atomic<T>* a, T v) {
  T seen = a->load();
  while (v > seen && !a->compare_exchange_weak(seen, v)) {
  }
}

template <typename T>
void AtomicMin(std::atomic<T>* a, T v) {
  T seen = a->load();
  while (v < seen && !a->compare_exchange_weak(seen, v)) {
  }
}

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_ATOMIC_EXTREMES_H_
