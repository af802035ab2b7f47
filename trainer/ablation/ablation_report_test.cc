// File: ablation_report_test.cc
// The report stage on done markers written by the test (no child programs).
#include "trainer/ablation/ablation_report.h"
#include "trainer/ablation/ablation_plot.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::trainer::ablation {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using json = nlohmann::json;

class AblationReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ablation_report_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ifstream in(std::string(MIVLA_SOURCE_DIR) + "/trainer/configs/ablation_micro.json");
    std::stringstream ss;
    ss << in.rdbuf();
    json j = json::parse(ss.str());
    j["output_dir"] = dir_;
    j["eval"]["tasks"] = {"press_bell", "stack_blocks"};
    j["eval"]["modes"] = {"easy", "hard"};
    j["eval"]["episodes"] = 4;
    auto c = ParseAblationConfig(j.dump(), "abl.json");
    ASSERT_TRUE(c.ok()) << c.status();
    config_ = *c;
    auto p = BuildPlan(config_, Binaries{});
    ASSERT_TRUE(p.ok()) << p.status();
    plan_ = *p;
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Done markers for every stage but the report: variant v (index i) succeeds on i of 4 episodes
  /// of press_bell and on 4 - i of stack_blocks in easy mode, never in hard mode.
  void MarkAll(const StageStore& store) {
    for (const Stage& s : plan_.stages) {
      if (s.kind == StageKind::kReport) continue;
      StageRecord r{s.name, s.spec_hash, 10.0, "", json::object()};
      if (s.kind == StageKind::kEval) {
        const int i = s.variant[0] - 'a';
        const int k = s.mode == "hard" ? 0 : s.task == "press_bell" ? i : 4 - i;
        r.result = {{"success_rate", k / 4.0}, {"completeness", 0.1 * i}, {"episodes", 4}, {"successes", k},
                    {"errors", s.name == "eval/c/stack_blocks/hard" ? 1 : 0},
                    {"mean_time_to_success_s", k > 0 ? json(3.0 + i) : json()}};
      } else if (s.kind != StageKind::kData) {
        r.result = {{"steps", s.units}, {"first_loss", 2.0}, {"last_loss", 1.0}, {"init", "tiny (fresh)"}};
        fs::create_directories(s.dir);
        std::ofstream(fs::path(s.dir) / "train_log.csv")
            << "step,loss\n1," << 3.0 + (s.variant[0] - 'a') << "\n2,2.0\n3,1.5\n4,1.2\n";
      } else {
        r.result = {{"episodes", 1}, {"frames", 60}};
      }
      ASSERT_TRUE(store.MarkDone(r).ok());
    }
  }

  std::string dir_;
  AblationConfig config_;
  Plan plan_;
};

TEST_F(AblationReportTest, TablesMeansOrderAndFiles) {
  StageStore store(plan_.output_dir);
  MarkAll(store);
  auto r = CollectResults(config_, plan_, store);
  ASSERT_TRUE(r.ok()) << r.status();
  // d: press_bell 3/4, stack_blocks 1/4 -> mean 0.5 in easy mode; a: 0/4 and 4/4 -> 0.5 too.
  EXPECT_DOUBLE_EQ((*r)["summary"]["d"]["easy"]["success_rate"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ((*r)["summary"]["d"]["easy"]["tasks"]["press_bell"]["success_rate"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ((*r)["summary"]["b"]["hard"]["success_rate"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ((*r)["summary"]["c"]["easy"]["mean_time_to_success_s"].get<double>(), 5.0);
  EXPECT_TRUE((*r)["summary"]["a"]["hard"]["mean_time_to_success_s"].is_null());
  EXPECT_DOUBLE_EQ((*r)["compute"]["total_s"].get<double>(), 10.0 * (plan_.stages.size() - 1));

  const std::string md = ResultsMarkdown(*r);
  EXPECT_THAT(md, HasSubstr("## Success rate (%), easy mode"));
  EXPECT_THAT(md, HasSubstr("## Success rate (%), hard mode"));
  EXPECT_THAT(md, HasSubstr("| variant | press_bell | stack_blocks | mean |"));
  EXPECT_THAT(md, HasSubstr("| (d) human + sim robot, all terms | 75 | 25 | 50 |"));
  EXPECT_THAT(md, HasSubstr("| (b) human only | 25 | 75 | 50 |"));
  EXPECT_THAT(md, HasSubstr("| (a) no pre-training | 0 | 0 | 0 |"));  // hard mode
  EXPECT_THAT(md, HasSubstr("## Completeness"));
  EXPECT_THAT(md, HasSubstr("## Time to success"));
  EXPECT_THAT(md, HasSubstr("| pretrain/d | tiny (fresh) | 4 | 2.0000 | 1.0000 |"));
  EXPECT_THAT(md, HasSubstr("The paper's claim is d > c > b > a."));
  EXPECT_THAT(md, HasSubstr("Episodes that errored (left out of the metrics by mivla-eval): eval/c/stack_blocks/hard (1)"));

  auto written = WriteReport(config_, plan_, store);
  ASSERT_TRUE(written.ok()) << written.status();
  for (const char* f : {"results.json", "results.md", "ablation.png"}) {
    EXPECT_TRUE(fs::exists(fs::path(dir_) / f)) << f;
  }
  const cv::Mat png = cv::imread((fs::path(dir_) / "ablation.png").string());
  ASSERT_FALSE(png.empty());
  EXPECT_EQ(png.cols, 1280);
  // The easy panel's press_bell bar of variant d (75%) is drawn in d's colour: some pixels are blue.
  int blue = 0;
  for (int y = 0; y < png.rows / 2; ++y) {
    for (int x = 0; x < png.cols / 2; ++x) {
      const cv::Vec3b px = png.at<cv::Vec3b>(y, x);
      blue += px[0] > 180 && px[1] < 120 && px[2] < 60;
    }
  }
  EXPECT_GT(blue, 500);
  for (const Stage& s : plan_.stages) {
    if (s.name == "pretrain/d") {
      EXPECT_EQ(ReadLossCurve(s.dir).size(), 4u);
    }
  }
}

TEST_F(AblationReportTest, MissingOrStaleStageIsNamed) {
  StageStore store(plan_.output_dir);
  MarkAll(store);
  StageRecord stale{"eval/c/press_bell/hard", "0000000000000000", 1.0, "", json::object()};
  ASSERT_TRUE(store.MarkDone(stale).ok());
  auto r = CollectResults(config_, plan_, store);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("eval/c/press_bell/hard"));
}

TEST_F(AblationReportTest, StoreMarkersArePartialAware) {
  StageStore store(plan_.output_dir);
  EXPECT_FALSE(store.Done("pretrain/b").has_value());
  ASSERT_TRUE(store.SavePartial("pretrain/b", "h1", 12.5).ok());
  EXPECT_DOUBLE_EQ(store.PartialSeconds("pretrain/b", "h1"), 12.5);
  EXPECT_DOUBLE_EQ(store.PartialSeconds("pretrain/b", "h2"), 0.0);  // another spec: starts over
  store.ClearPartial("pretrain/b");
  EXPECT_DOUBLE_EQ(store.PartialSeconds("pretrain/b", "h1"), 0.0);
  std::ofstream(store.DonePath("pretrain/b")) << "{\"spec_ha";  // damaged: counts as absent
  EXPECT_FALSE(store.Done("pretrain/b").has_value());
  // No temporary files are left beside the markers.
  for (const auto& e : fs::recursive_directory_iterator(fs::path(dir_) / "stages")) {
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
  }
}

}  // namespace
}  // namespace mivla::trainer::ablation
