#include "core/metrics/text_format.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace mivla::metrics {
namespace {

TEST(TextFormatTest, MetricNames) {
  EXPECT_TRUE(IsValidMetricName("mivla_requests_total"));
  EXPECT_TRUE(IsValidMetricName("a:b_c9"));
  EXPECT_TRUE(IsValidMetricName("_x"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("9abc"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName("a b"));
}

TEST(TextFormatTest, LabelNames) {
  EXPECT_TRUE(IsValidLabelName("rpc"));
  EXPECT_TRUE(IsValidLabelName("_x1"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("1a"));
}

TEST(TextFormatTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeHelp("a\\b\"c\nd"), "a\\\\b\"c\\nd");
}

TEST(TextFormatTest, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(-2), "-2");
  EXPECT_EQ(FormatValue(1e15), "1000000000000000");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatValue(1e300), "1e+300");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(FormatValue(1.0 / 3)), 1.0 / 3);
}

TEST(TextFormatTest, ReadsOneSampleBackFromAScrape) {
  const std::string scrape =
      "# HELP mivla_late_acts_total Late Acts.\n"
      "# TYPE mivla_late_acts_total counter\n"
      "mivla_late_acts_total 7\n"
      "mivla_batch_size_count{stage=\"decode\"} 12 1700000000000\n"
      "mivla_batch_size_count{stage=\"encode\"} 3\n"
      "mivla_batch_size_bucket{stage=\"decode\",le=\"+Inf\"} +Inf\n"
      "mivla_broken 1x\n"
      "mivla_spaced \t 2.5\n"
      "mivla_not_a_number NaN\n";
  EXPECT_EQ(SampleValue(scrape, "mivla_late_acts_total"), 7);
  EXPECT_EQ(SampleValue(scrape, R"(mivla_batch_size_count{stage="decode"})"), 12) << "timestamp ignored";
  EXPECT_EQ(SampleValue(scrape, R"(mivla_batch_size_count{stage="encode"})"), 3);
  EXPECT_EQ(SampleValue(scrape, R"(mivla_batch_size_bucket{stage="decode",le="+Inf"})"),
            std::numeric_limits<double>::infinity());
  EXPECT_FALSE(SampleValue(scrape, "mivla_late_acts").has_value()) << "a prefix of a name is not the name";
  EXPECT_FALSE(SampleValue(scrape, "mivla_batch_size_count").has_value()) << "labels must match as exposed";
  EXPECT_FALSE(SampleValue(scrape, "mivla_broken").has_value());
  EXPECT_EQ(SampleValue(scrape, "mivla_spaced"), 2.5) << "blanks and tabs before the value";
  ASSERT_TRUE(SampleValue(scrape, "mivla_not_a_number").has_value());
  EXPECT_TRUE(std::isnan(*SampleValue(scrape, "mivla_not_a_number")));
  EXPECT_FALSE(SampleValue("", "mivla_late_acts_total").has_value());
}

}  // namespace
}  // namespace mivla::metrics
