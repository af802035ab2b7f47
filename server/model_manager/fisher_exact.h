// File: fisher_exact.h
// The statistics behind success-gated rollout (rollout_policy.h): is a canary's episode success rate
// significantly below the incumbent's?
//
// One-sided Fisher exact test. The 2x2 table
//                 successes   failures
//     canary          a        n1 - a
//     incumbent       c        n2 - c
// is judged conditional on its margins: under H0 (equal success probabilities) the canary's successes
// follow the hypergeometric law of n1 draws from n1 + n2 episodes of which a + c succeeded, and the
// p-value of H1 "the canary succeeds less often" is P(A <= a). It is exact for any counts: rollout trials
// are tens of episodes with success rates often near 0 or 1, where a two-proportion z-test's normal
// approximation is poor (it needs about 5 expected successes and failures per arm) and can reject at
// more than the stated level; Fisher's test never does (it is conservative instead).
//
//   double p = OneSidedFisherLessP(/*a=*/6, /*n1=*/30, /*c=*/24, /*n2=*/30);  // canary worse?
//   bool worse = p < alpha;
//
// Pure functions; thread-safe.
#ifndef MIVLA_SERVER_MODEL_MANAGER_FISHER_EXACT_H_
#define MIVLA_SERVER_MODEL_MANAGER_FISHER_EXACT_H_

#include <cstdint>

namespace mivla::server {

/// P(A <= a) for A hypergeometric (n1 draws, a + c successes among n1 + n2): the one-sided Fisher exact
/// p-value that arm 1 (a of n1) succeeds less often than arm 2 (c of n2). 1 when either arm is empty.
/// Requires 0 <= a <= n1 and 0 <= c <= n2 (values outside are clamped).
double OneSidedFisherLessP(int64_t a, int64_t n1, int64_t c, int64_t n2);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_MODEL_MANAGER_FISHER_EXACT_H_
