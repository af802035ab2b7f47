#include "core/util/quantile.h"

#include <gtest/gtest.h>

namespace mivla {
namespace {

TEST(QuantileTest, NearestRankOfUnsortedValues) {
  std::vector<double> v;
  for (int i = 200; i >= 1; --i) v.push_back(i);  // 1..200, descending
  EXPECT_EQ(Quantile(v, 0.5), 100);
  EXPECT_EQ(Quantile(v, 0.99), 198);
  EXPECT_EQ(Quantile(v, 1.0), 200);
  EXPECT_EQ(Quantile(v, 0.0), 1);
  EXPECT_EQ(Quantile(v, 0.001), 1);
  EXPECT_EQ(Quantile(v, 0.996), 200);  // rank ceil(199.2) = 200
}

TEST(QuantileTest, EdgesAreClampedAndEmptyIsZero) {
  EXPECT_EQ(Quantile({}, 0.5), 0.0);
  EXPECT_EQ(Quantile({7}, 0.99), 7);
  EXPECT_EQ(Quantile({3, 1, 2}, -1.0), 1);
  EXPECT_EQ(Quantile({3, 1, 2}, 2.0), 3);
  EXPECT_EQ(Quantile({4, 1, 3, 2}, 0.5), 2);  // the lower median
}

}  // namespace
}  // namespace mivla
