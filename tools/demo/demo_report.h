// File: demo_report.h
// What mivla-demo shows of a DemoReport: a table on the terminal (per robot and task: success,
// completeness, time to success, round trip p50/p99, fresh ticks, holds, clamps), demo.json (machine-
// readable, every episode), demo.md (the same tables, the model, the command, the picture) and demo.png
// (per robot and task: head-camera frames of the first episode and end-effector traces; a histogram of
// round trips per robot). Thread-safe (pure functions).
#ifndef MIVLA_TOOLS_DEMO_DEMO_REPORT_H_
#define MIVLA_TOOLS_DEMO_DEMO_REPORT_H_

#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "tools/demo/demo_run.h"

namespace mivla::demo {

/// Per robot, over all its episodes.
struct RobotFigures {
  std::string name;  // "PiPER", "ARX-5", "LocoMan", "ALOHA"
  int episodes = 0, successes = 0, errors = 0;
  double round_trip_ms_p50 = 0, round_trip_ms_p99 = 0;
  int64_t ticks = 0, fresh_ticks = 0, hold_ticks = 0, clamps = 0, chunks = 0;
};
RobotFigures Figures(const RobotReport& robot);

nlohmann::json DemoJson(const DemoReport& report, const DemoOptions& options);
/// `command` is the line that reproduces the run; `png` the picture's file name (beside the report).
std::string DemoMarkdown(const DemoReport& report, const DemoOptions& options, const std::string& command,
                         const std::string& png);
std::string DemoTable(const DemoReport& report);
absl::Status WriteDemoPng(const DemoReport& report, const std::string& path);

}  // namespace mivla::demo

#endif  // MIVLA_TOOLS_DEMO_DEMO_REPORT_H_
