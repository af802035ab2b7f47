// File: quantile.h
// The one quantile definition of the project's benchmarks and reports: nearest rank. The q-quantile of n
// values is the ceil(q * n)-th smallest (the smallest for q = 0), so p50 of 200 samples is the 100th and
// p99 the 198th, and it is always one of the values measured. Thread-safe (a pure function).
#ifndef MIVLA_CORE_UTIL_QUANTILE_H_
#define MIVLA_CORE_UTIL_QUANTILE_H_

#include <vector>

namespace mivla {

/// The q-quantile (q clamped to [0, 1]) of `values` by nearest rank; 0 for an empty list.
double Quantile(std::vector<double> values, double q);

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_QUANTILE_H_
