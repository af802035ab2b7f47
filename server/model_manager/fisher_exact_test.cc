// The one-sided Fisher exact test against p-values computed by hand from the hypergeometric law:
// P(A <= a) = sum_x C(a+c, x) C(n-a-c, n1-x) / C(n, n1).
#include "server/model_manager/fisher_exact.h"

#include "gtest/gtest.h"

namespace mivla::server {
namespace {

TEST(FisherExactTest, MatchesHandComputedTables) {
  // 0/5 vs 5/5: only the observed table is as extreme: 1 / C(10,5).
  EXPECT_NEAR(OneSidedFisherLessP(0, 5, 5, 5), 1.0 / 252, 1e-12);
  // 1/5 vs 5/5: x = 0 is impossible (5 failures needed, 4 exist), so C(6,1) C(4,4) / C(10,5).
  EXPECT_NEAR(OneSidedFisherLessP(1, 5, 5, 5), 6.0 / 252, 1e-12);
  // Fisher's tea tasting, the other way round: 1/4 vs 3/4: (1 + 16) / 70.
  EXPECT_NEAR(OneSidedFisherLessP(1, 4, 3, 4), 17.0 / 70, 1e-12);
  // 3/10 vs 8/10: x from 1 to 3: (11 + 55*9 + 165*36) / C(20,10) = 6446 / 184756.
  EXPECT_NEAR(OneSidedFisherLessP(3, 10, 8, 10), 6446.0 / 184756, 1e-12);
  // Equal 5/10 vs 5/10: by symmetry (1 + P(A = 5)) / 2, P(A = 5) = C(10,5)^2 / C(20,10).
  EXPECT_NEAR(OneSidedFisherLessP(5, 10, 5, 10), (1.0 + 63504.0 / 184756) / 2, 1e-12);
  // Unequal arms, 2/20 vs 9/20: sum_{x<=2} C(11,x) C(29,20-x) / C(40,20) = 0.015475152571926765 (exact
  // rational arithmetic).
  EXPECT_NEAR(OneSidedFisherLessP(2, 20, 9, 20), 0.015475152571926765, 1e-12);
}

TEST(FisherExactTest, TailsAndEdges) {
  EXPECT_DOUBLE_EQ(OneSidedFisherLessP(5, 5, 0, 5), 1.0);   // the canary is better: nothing below it
  EXPECT_DOUBLE_EQ(OneSidedFisherLessP(0, 0, 3, 5), 1.0);   // an empty arm tests nothing
  EXPECT_DOUBLE_EQ(OneSidedFisherLessP(3, 5, 0, 0), 1.0);
  EXPECT_DOUBLE_EQ(OneSidedFisherLessP(0, 1, 0, 1), 1.0);   // no successes at all
  // Large counts stay finite and small: 6/30 vs 24/30 is 3.159e-06 (exact rational arithmetic).
  EXPECT_NEAR(OneSidedFisherLessP(6, 30, 24, 30), 3.1593940761298615e-06, 1e-15);
  const double big = OneSidedFisherLessP(4000, 10000, 5000, 10000);
  EXPECT_GT(big, 0.0);
  EXPECT_LT(big, 1e-40);
  // More successes for the canary never makes the p-value smaller.
  double last = 0;
  for (int a = 0; a <= 20; ++a) {
    const double p = OneSidedFisherLessP(a, 20, 12, 20);
    EXPECT_GE(p, last);
    last = p;
  }
  EXPECT_DOUBLE_EQ(last, 1.0);
}

}  // namespace
}  // namespace mivla::server
