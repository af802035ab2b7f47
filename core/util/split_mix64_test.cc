#include "core/util/split_mix64.h"

#include "gtest/gtest.h"

namespace mivla {
namespace {

TEST(SplitMix64Test, MatchesTheReferenceGeneratorsOutputs) {
  // The reference SplitMix64 generator seeded with 0 outputs SplitMix64(k * golden gamma) for k = 0, 1, 2.
  constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ull;
  EXPECT_EQ(SplitMix64(0), 0xe220a8397b1dcdafull);
  EXPECT_EQ(SplitMix64(kGamma), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(SplitMix64(2 * kGamma), 0x06c45d188009454full);
  static_assert(SplitMix64(1) != SplitMix64(2));
}

}  // namespace
}  // namespace mivla
