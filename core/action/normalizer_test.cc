#include "core/action/normalizer.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace mivla::action {
namespace {

std::vector<std::array<float, kActionDim>> RandomData(int n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-3.0f, 5.0f);
  std::vector<std::array<float, kActionDim>> out(n);
  for (auto& v : out) {
    for (float& x : v) x = u(rng);
  }
  return out;
}

class NormalizerTest : public ::testing::TestWithParam<NormalizationMode> {};

TEST_P(NormalizerTest, RoundTripAndRange) {
  std::mt19937 rng(7);
  auto data = RandomData(200, rng);
  const ActionMask mask = EmbodimentMask(Embodiment::kAlohaAgilex);
  NormalizationStatsBuilder b(GetParam());
  for (const auto& v : data) b.Add(Embodiment::kAlohaAgilex, v.data(), mask);
  NormalizationStats stats = b.Build();
  double sum = 0;
  int n = 0;
  for (const auto& v : data) {
    auto x = v;
    stats.Normalize(Embodiment::kAlohaAgilex, x.data(), mask);
    for (int i = 0; i < kActionDim; ++i) {
      if (!mask.test(i)) {
        EXPECT_EQ(x[i], v[i]);  // unmasked slots untouched
        continue;
      }
      if (IsRotationDim(i)) {
        EXPECT_EQ(x[i], v[i]);
        continue;
      }
      if (GetParam() == NormalizationMode::kMinMax) {
        EXPECT_GE(x[i], -1.0f - 1e-5f);
        EXPECT_LE(x[i], 1.0f + 1e-5f);
      }
      sum += x[i];
      ++n;
    }
    stats.Denormalize(Embodiment::kAlohaAgilex, x.data(), mask);
    for (int i = 0; i < kActionDim; ++i) EXPECT_NEAR(x[i], v[i], 1e-5) << i;
  }
  if (GetParam() == NormalizationMode::kMeanStd) {
    EXPECT_NEAR(sum / n, 0.0, 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, NormalizerTest,
                         ::testing::Values(NormalizationMode::kMinMax, NormalizationMode::kMeanStd));

TEST(NormalizerJsonTest, RoundTripIsExact) {
  std::mt19937 rng(8);
  NormalizationStatsBuilder b;
  for (const auto& v : RandomData(50, rng)) {
    b.Add(Embodiment::kPiper, v.data(), EmbodimentMask(Embodiment::kPiper));
    b.Add(Embodiment::kHuman, v.data(), EmbodimentMask(Embodiment::kHuman));
  }
  NormalizationStats stats = b.Build();
  absl::StatusOr<NormalizationStats> back = NormalizationStats::FromJson(stats.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == stats);
  EXPECT_EQ(back->stats(Embodiment::kPiper, 55).count, 50);
  EXPECT_EQ(back->stats(Embodiment::kPiper, 0).count, 0);
}

TEST(NormalizerJsonTest, MalformedJsonNamesTheField) {
  EXPECT_FALSE(NormalizationStats::FromJson("not json").ok());
  absl::Status s = NormalizationStats::FromJson(R"({"mode":"min_max"})").status();
  EXPECT_NE(s.message().find("embodiments"), std::string::npos);
  s = NormalizationStats::FromJson(R"({"mode":"min_max","embodiments":{"PIPER":{"mean":[1]}}})").status();
  EXPECT_NE(s.message().find("PIPER.mean"), std::string::npos) << s;
  s = NormalizationStats::FromJson(R"({"mode":"cubic","embodiments":{}})").status();
  EXPECT_NE(s.message().find("cubic"), std::string::npos);
}

TEST(NormalizerTest, ConstantDimensionIsShiftedNotBlownUp) {
  NormalizationStatsBuilder b;
  std::array<float, kActionDim> v{};
  v.fill(0.25f);
  const ActionMask mask = EmbodimentMask(Embodiment::kPiper);
  for (int i = 0; i < 10; ++i) b.Add(Embodiment::kPiper, v.data(), mask);
  NormalizationStats stats = b.Build();
  auto x = v;
  stats.Normalize(Embodiment::kPiper, x.data(), mask);
  EXPECT_FLOAT_EQ(x[55], 0.0f);
  stats.Denormalize(Embodiment::kPiper, x.data(), mask);
  EXPECT_FLOAT_EQ(x[55], 0.25f);
}

TEST(NormalizerTest, NonFiniteValuesAreIgnoredByBuilder) {
  NormalizationStatsBuilder b;
  std::array<float, kActionDim> v{};
  v.fill(1.0f);
  b.Add(Embodiment::kArx5, v.data(), EmbodimentMask(Embodiment::kArx5));
  v[55] = NAN;
  b.Add(Embodiment::kArx5, v.data(), EmbodimentMask(Embodiment::kArx5));
  NormalizationStats stats = b.Build();
  EXPECT_EQ(stats.stats(Embodiment::kArx5, 55).count, 1);
  EXPECT_EQ(stats.stats(Embodiment::kArx5, 56).count, 2);
}

}  // namespace
}  // namespace mivla::action
