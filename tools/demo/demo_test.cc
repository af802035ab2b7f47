// File: demo_test.cc
// RunDemo against a random-init tiny server (a child process): every robot of the default roster runs
// its episodes (short ones), reports round trips, and the report files come out whole.
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "core/util/log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/demo/demo_report.h"
#include "tools/demo/demo_run.h"

namespace mivla::demo {
namespace {

using ::testing::HasSubstr;

TEST(DemoTest, FourRobotsAtOnceReportAndTheFilesAreWritten) {
  SetLogQuiet(true);
  const std::string out = ::testing::TempDir() + "/mivla_demo_test";
  std::filesystem::remove_all(out);
  DemoOptions o;
  o.server_bin = MIVLA_SERVER_BIN;
  o.out_dir = out;
  o.episodes = 1;
  o.max_steps = 30;
  int last_done = -1, calls = 0;
  o.progress = [&](int done, int total) {
    EXPECT_EQ(total, 5);  // PiPER 2 tasks, ARX-5, LocoMan, ALOHA 1 each
    EXPECT_GE(done, last_done);
    last_done = done;
    ++calls;
  };
  absl::StatusOr<DemoReport> r = RunDemo(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(last_done, 5);
  EXPECT_EQ(calls, 6);
  EXPECT_TRUE(r->random_init);
  EXPECT_EQ(r->config_name, "tiny");
  EXPECT_FALSE(r->model_version.empty());
  EXPECT_EQ(r->server_exit, 0) << "the server did not drain and exit cleanly on SIGTERM";
  ASSERT_EQ(r->robots.size(), 4u);
  for (const RobotReport& robot : r->robots) {
    const RobotFigures f = Figures(robot);
    EXPECT_EQ(f.errors, 0) << f.name;
    EXPECT_EQ(f.episodes, static_cast<int>(robot.eval.tasks.size())) << f.name;
    int64_t want_ticks = 0;  // every episode runs its 30 steps, unless it succeeds and ends 5 steps later
    for (const client::TaskReport& t : robot.eval.tasks) {
      for (const client::EpisodeResult& e : t.results) {
        EXPECT_EQ(e.client.ticks, e.steps) << f.name << " " << t.task;
        if (e.success) {
          EXPECT_LE(e.steps, 30) << f.name << " " << t.task;
          want_ticks += e.steps;
        } else {
          want_ticks += 30;
        }
      }
    }
    EXPECT_EQ(f.ticks, want_ticks) << f.name;
    EXPECT_GT(f.chunks, 0) << f.name;
    EXPECT_EQ(static_cast<int64_t>(robot.round_trip_ms.size()), f.chunks) << f.name;
    EXPECT_GT(f.round_trip_ms_p50, 0.0) << f.name;
    EXPECT_FALSE(robot.eval.tasks.front().results.front().frames.empty()) << f.name << ": no camera frames kept";
  }

  const std::string table = DemoTable(*r);
  for (const char* s :
       {"PiPER", "ARX-5", "LocoMan", "ALOHA", "press_bell", "place_block_basket", "lift_pot", "handover_block"}) {
    EXPECT_THAT(table, HasSubstr(s));
  }
  const std::string md = DemoMarkdown(*r, o, "mivla-demo --episodes 1", "demo.png");
  EXPECT_THAT(md, HasSubstr("randomly initialised `tiny`"));
  EXPECT_THAT(md, HasSubstr("| ALOHA | handover_block | 0/1 |"));
  EXPECT_THAT(md, HasSubstr("![demo](demo.png)"));
  const nlohmann::json j = DemoJson(*r, o);
  EXPECT_EQ(j["robots"].size(), 4u);
  EXPECT_EQ(j["robots"][0]["tasks"][1]["task"], "place_block_basket");
  EXPECT_EQ(j["robots"][0]["tasks"][0]["results"][0]["status"], "ok");

  const std::string png = out + "/demo.png";
  ASSERT_TRUE(WriteDemoPng(*r, png).ok());
  const cv::Mat img = cv::imread(png);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 4 * 240 + 240);
  EXPECT_EQ(img.rows, 28 + 5 * (28 + 180) + 220);  // title, 5 rows, the histogram
  EXPECT_TRUE(std::filesystem::file_size(out + "/server.log") > 0);
}

TEST(DemoTest, RefusesATaskTheRobotCannotDo) {
  DemoOptions o;
  o.server_bin = MIVLA_SERVER_BIN;
  o.out_dir = ::testing::TempDir() + "/mivla_demo_test_bad";
  o.robots = {{action::Embodiment::kAlohaAgilex, {"press_bell"}}};
  absl::StatusOr<DemoReport> r = RunDemo(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("cannot do 'press_bell'"));
}

}  // namespace
}  // namespace mivla::demo
