// File: demo_report.cc
#include "tools/demo/demo_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/eval/eval_plot.h"
#include "client/tools/run_summary.h"

namespace mivla::demo {
namespace {

using action::Embodiment;

// Round trips, ticks, holds and clamps over some episodes.
struct EpisodeTotals {
  std::vector<double> round_trip_ms;
  int64_t ticks = 0, fresh_ticks = 0, hold_ticks = 0, clamps = 0, chunks = 0;
  void Add(const client::EpisodeResult& e) {
    if (!e.error.empty()) return;
    for (int64_t us : e.client.round_trip_us) round_trip_ms.push_back(us / 1000.0);
    ticks += e.client.ticks;
    fresh_ticks += e.client.fresh_ticks;
    chunks += e.client.chunks;
    hold_ticks += e.safety.hold_ticks;
    for (int64_t c : e.safety.clamps) clamps += c;
  }
};

std::string TimeToSuccess(const client::TaskReport& t) {
  return t.mean_time_to_success_s >= 0 ? absl::StrFormat("%.1f s", t.mean_time_to_success_s) : std::string("-");
}

std::string RoundTrip(const std::vector<double>& ms) {
  if (ms.empty()) return "-";
  return absl::StrFormat("%.0f / %.0f ms", Quantile(ms, 0.5), Quantile(ms, 0.99));
}

std::string Share(int64_t part, int64_t whole) {
  return whole > 0 ? absl::StrFormat("%.0f%%", 100.0 * part / whole) : std::string("-");
}

// One row per robot and task: the cells of both tables.
struct Row {
  std::string robot, task, success, completeness, time_to_success, round_trip, fresh;
  int64_t holds = 0, clamps = 0;
};

std::vector<Row> Rows(const DemoReport& report) {
  std::vector<Row> rows;
  for (const RobotReport& r : report.robots) {
    for (const client::TaskReport& t : r.eval.tasks) {
      EpisodeTotals tot;
      for (const client::EpisodeResult& e : t.results) tot.Add(e);
      Row row{RobotName(r.embodiment),
              t.task,
              absl::StrCat(t.successes, "/", t.episodes, t.errors > 0 ? absl::StrCat(" (", t.errors, " errored)") : ""),
              absl::StrFormat("%.2f", t.completeness),
              TimeToSuccess(t),
              RoundTrip(tot.round_trip_ms),
              Share(tot.fresh_ticks, tot.ticks)};
      row.holds = tot.hold_ticks;
      row.clamps = tot.clamps;
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string ModelLine(const DemoReport& report) {
  if (report.random_init) {
    return absl::StrCat("a randomly initialised `", report.config_name,
                        "` model (no bundled checkpoint was found; its robots are not expected to succeed)");
  }
  return absl::StrCat("`", report.config_name, "` checkpoint `", report.model_version, "` from `", report.model, "`");
}

}  // namespace

RobotFigures Figures(const RobotReport& robot) {
  RobotFigures f;
  f.name = RobotName(robot.embodiment);
  EpisodeTotals tot;
  for (const client::TaskReport& t : robot.eval.tasks) {
    f.episodes += t.episodes;
    f.successes += t.successes;
    f.errors += t.errors;
    for (const client::EpisodeResult& e : t.results) tot.Add(e);
  }
  f.round_trip_ms_p50 = Quantile(tot.round_trip_ms, 0.5);
  f.round_trip_ms_p99 = Quantile(tot.round_trip_ms, 0.99);
  f.ticks = tot.ticks;
  f.fresh_ticks = tot.fresh_ticks;
  f.hold_ticks = tot.hold_ticks;
  f.clamps = tot.clamps;
  f.chunks = tot.chunks;
  return f;
}

nlohmann::json DemoJson(const DemoReport& report, const DemoOptions& options) {
  nlohmann::json j;
  j["model"] = {{"source", report.model},
                {"version", report.model_version},
                {"config", report.config_name},
                {"random_init", report.random_init}};
  j["mode"] = options.hard ? "hard" : "easy";
  j["episodes_per_task"] = options.episodes;
  j["seed"] = options.seed;
  j["max_steps"] = options.max_steps;
  j["wall_s"] = report.wall_s;
  j["server_exit"] = report.server_exit;
  nlohmann::json robots = nlohmann::json::array();
  for (const RobotReport& r : report.robots) {
    const RobotFigures f = Figures(r);
    nlohmann::json rj = {{"robot", f.name},
                         {"embodiment", std::string(action::EmbodimentName(r.embodiment))},
                         {"episodes", f.episodes},
                         {"successes", f.successes},
                         {"errors", f.errors},
                         {"success_rate", f.episodes > 0 ? static_cast<double>(f.successes) / f.episodes : 0.0},
                         {"round_trip_ms_p50", f.round_trip_ms_p50},
                         {"round_trip_ms_p99", f.round_trip_ms_p99},
                         {"chunks", f.chunks},
                         {"ticks", f.ticks},
                         {"fresh_ticks", f.fresh_ticks},
                         {"hold_ticks", f.hold_ticks},
                         {"clamps", f.clamps}};
    nlohmann::json tasks = nlohmann::json::array();
    for (const client::TaskReport& t : r.eval.tasks) {
      nlohmann::json tj = {
          {"task", t.task},           {"episodes", t.episodes},         {"errors", t.errors},
          {"successes", t.successes}, {"success_rate", t.success_rate}, {"completeness", t.completeness}};
      tj["mean_time_to_success_s"] =
          t.mean_time_to_success_s >= 0 ? nlohmann::json(t.mean_time_to_success_s) : nlohmann::json();
      nlohmann::json eps = nlohmann::json::array();
      for (const client::EpisodeResult& e : t.results) eps.push_back(client::EpisodeJson(e));
      tj["results"] = eps;
      tasks.push_back(tj);
    }
    rj["tasks"] = tasks;
    robots.push_back(rj);
  }
  j["robots"] = robots;
  return j;
}

std::string DemoTable(const DemoReport& report) {
  std::string out =
      absl::StrFormat("%-8s %-18s %-9s %-12s %-15s %-19s %-6s %6s %7s\n", "robot", "task", "success", "completeness",
                      "time to success", "round trip p50/p99", "fresh", "holds", "clamps");
  for (const Row& r : Rows(report)) {
    absl::StrAppendFormat(&out, "%-8s %-18s %-9s %-12s %-15s %-19s %-6s %6d %7d\n", r.robot, r.task, r.success,
                          r.completeness, r.time_to_success, r.round_trip, r.fresh, r.holds, r.clamps);
  }
  return out;
}

std::string DemoMarkdown(const DemoReport& report, const DemoOptions& options, const std::string& command,
                         const std::string& png) {
  std::string md = "# MiVLA demo\n\n";
  absl::StrAppend(&md, "`mivla-server` served ", ModelLine(report), ". Simulated robots of ", report.robots.size(),
                  " embodiments ran ", options.episodes, options.episodes == 1 ? " episode" : " episodes",
                  " per task at the same time against it (", options.hard ? "hard" : "easy", " mode, seeds ",
                  options.seed, " to ", options.seed + options.episodes - 1,
                  ", the simulator in lockstep with the server), in ", absl::StrFormat("%.0f s", report.wall_s),
                  ". The server drained and exited with status ", report.server_exit, " afterwards.\n\n");
  md +=
      "| robot | task | success | completeness | time to success | round trip p50 / p99 | ticks from a fresh chunk | "
      "hold ticks | safety clamps |\n";
  md += "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const Row& r : Rows(report)) {
    absl::StrAppend(&md, "| ", r.robot, " | ", r.task, " | ", r.success, " | ", r.completeness, " | ",
                    r.time_to_success, " | ", r.round_trip, " | ", r.fresh, " | ", r.holds, " | ", r.clamps, " |\n");
  }
  absl::StrAppend(&md, "\nSuccess: episodes that completed the task; completeness: the mean share of its sub-goals; ",
                  "time to success: simulated seconds, over successful episodes; round trip: Observe + Act as the ",
                  "robot measured it (wall clock); fresh: control ticks served from a chunk rather than a hold; ",
                  "clamps: the safety layer's limits applied (joint position, velocity, acceleration, workspace, ",
                  "gripper; one tick may count several).\n\n");
  absl::StrAppend(&md, "![demo](", png, ")\n\nEach row: the head camera during the first episode of the task, and the ",
                  "end effector seen from above over every episode (green: success, red: failure; a dot marks the ",
                  "start). Bottom: the round-trip histogram per robot.\n\nReproduce: `", command,
                  "`; every episode is in `demo.json`.\n");
  return md;
}

absl::Status WriteDemoPng(const DemoReport& report, const std::string& path) {
  std::vector<client::PlotRow> rows;
  std::vector<client::LatencySeries> latency;
  for (const RobotReport& r : report.robots) {
    const RobotFigures f = Figures(r);
    for (const client::TaskReport& t : r.eval.tasks) {
      rows.push_back({absl::StrFormat("%s %s: success %d/%d, completeness %.2f, time to success %s", f.name, t.task,
                                      t.successes, t.episodes, t.completeness, TimeToSuccess(t)),
                      &t});
    }
    latency.push_back({f.name, r.round_trip_ms});
  }
  return client::WriteRowsPng(
      rows, latency,
      absl::StrCat("MiVLA demo: ", report.config_name, " model ", report.model_version,
                   report.random_init ? " (random init)" : "", ", ", report.robots.size(), " robots at once"),
      path);
}

}  // namespace mivla::demo
