#include "server/model_manager/fisher_exact.h"

#include <algorithm>
#include <cmath>

namespace mivla::server {
namespace {

// log C(n, k) for 0 <= k <= n.
double LogChoose(int64_t n, int64_t k) {
  return std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
         std::lgamma(static_cast<double>(n - k) + 1);
}

}  // namespace

double OneSidedFisherLessP(int64_t a, int64_t n1, int64_t c, int64_t n2) {
  if (n1 <= 0 || n2 <= 0) return 1.0;
  a = std::clamp<int64_t>(a, 0, n1);
  c = std::clamp<int64_t>(c, 0, n2);
  const int64_t n = n1 + n2;
  const int64_t k = a + c;  // successes in all
  if (a >= std::min(n1, k)) return 1.0;  // the whole support lies at or below a
  const int64_t lo = std::max<int64_t>(0, n1 - (n - k));
  const double log_total = LogChoose(n, n1);
  double p = 0;
  for (int64_t x = lo; x <= a; ++x) {
    p += std::exp(LogChoose(k, x) + LogChoose(n - k, n1 - x) - log_total);
  }
  return std::clamp(p, 0.0, 1.0);
}

}  // namespace mivla::server
