// File: demo_run.cc
#include "tools/demo/demo_run.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/net/policy_connection.h"
#include "client/tools/server_child.h"
#include "core/util/status_macros.h"

namespace mivla::demo {
namespace {

using action::Embodiment;

// The server's model, as GetPolicyInfo reports it.
absl::Status DescribeModel(const std::string& target, DemoReport* report) {
  client::ConnectionOptions co;
  co.target = target;
  co.connect_timeout_ms = 10000;
  co.rpc_timeout_ms = 10000;
  ASSIGN_OR_RETURN(std::unique_ptr<client::PolicyConnection> c, client::PolicyConnection::Create(co));
  ASSIGN_OR_RETURN(mivla::v1::GetPolicyInfoResponse info, c->GetPolicyInfo());
  report->model_version = info.model_version();
  report->config_name = info.config_name();
  return absl::OkStatus();
}

// Every robot's evaluation options, checked before the server starts.
absl::StatusOr<std::vector<client::EvalOptions>> PlanRobots(const DemoOptions& options) {
  std::vector<client::EvalOptions> plans;
  for (const DemoRobot& robot : options.robots) {
    ASSIGN_OR_RETURN(client::RobotConfig cfg,
                     client::LoadRobotConfig(client::DefaultRobotConfigPath(robot.embodiment)));
    client::EvalOptions o;
    o.tasks = robot.tasks;
    o.episodes = options.episodes;
    o.seed = options.seed;
    o.parallel = 1;
    o.episode = client::EpisodeFromConfig(cfg, "", /*real_time=*/false);
    o.episode.driver.mode = options.hard ? sim::Mode::kHard : sim::Mode::kEasy;
    o.episode.max_steps = options.max_steps;
    o.episode.client.record_ticks = true;  // round trips
    o.episode.client.robot_id =
        absl::StrCat("demo-", absl::AsciiStrToLower(std::string(action::EmbodimentName(robot.embodiment))));
    o.traced_episodes = options.episodes;
    o.sampled_frames = 4;
    const std::vector<std::string> can = client::TasksFor(robot.embodiment);
    for (const std::string& t : robot.tasks) {
      if (std::find(can.begin(), can.end(), t) == can.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(std::string(action::EmbodimentName(robot.embodiment)), " cannot do '", t, "'"));
      }
    }
    plans.push_back(std::move(o));
  }
  if (plans.empty()) return absl::InvalidArgumentError("no robots");
  return plans;
}

}  // namespace

std::string RobotName(Embodiment e) {
  switch (e) {
    case Embodiment::kPiper:
      return "PiPER";
    case Embodiment::kArx5:
      return "ARX-5";
    case Embodiment::kLocoman:
      return "LocoMan";
    case Embodiment::kAlohaAgilex:
      return "ALOHA";
    case Embodiment::kHuman:
      return "human";
  }
  return "?";
}

std::vector<DemoRobot> DefaultRobots() {
  return {{Embodiment::kPiper, {"press_bell", "place_block_basket"}},
          {Embodiment::kArx5, {"press_bell"}},
          {Embodiment::kLocoman, {"lift_pot"}},
          {Embodiment::kAlohaAgilex, {"handover_block"}}};
}

absl::StatusOr<DemoReport> RunDemo(const DemoOptions& options) {
  if (options.episodes < 1) return absl::InvalidArgumentError("--episodes: want at least 1");
  ASSIGN_OR_RETURN(std::vector<client::EvalOptions> plans, PlanRobots(options));
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--out '", options.out_dir, "': ", ec.message()));

  DemoReport report;
  report.random_init = options.model_dir.empty();
  report.model = report.random_init ? "random-init tiny" : options.model_dir;
  const std::vector<std::string> model_flags = report.random_init
                                                   ? std::vector<std::string>{"--random-init", "--config", "tiny"}
                                                   : std::vector<std::string>{"--model-dir", options.model_dir};
  const std::string log = (std::filesystem::path(options.out_dir) / "server.log").string();
  std::filesystem::remove(log, ec);
  ASSIGN_OR_RETURN(std::unique_ptr<client::ServerProcess> server,
                   client::ServerProcess::StartServing(options.server_bin, model_flags, 0, log, {}, 180));
  RETURN_IF_ERROR(DescribeModel(server->target(), &report));

  int total = 0;
  for (const client::EvalOptions& p : plans) total += static_cast<int>(p.tasks.size()) * p.episodes;
  absl::Mutex mu;
  int done = 0;
  if (options.progress) options.progress(0, total);
  std::vector<absl::StatusOr<client::EvalReport>> evals(plans.size(), absl::UnknownError("not run"));
  std::vector<std::thread> robots;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < plans.size(); ++i) {
    plans[i].episode.connection.target = server->target();
    plans[i].progress = [&](int, int) {
      absl::MutexLock l(&mu);
      ++done;
      if (options.progress) options.progress(done, total);
    };
    robots.emplace_back([&plans, &evals, i] { evals[i] = client::RunEvaluation(plans[i]); });
  }
  for (std::thread& t : robots) t.join();
  report.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report.server_exit = server->Terminate(30);
  for (size_t i = 0; i < plans.size(); ++i) {
    if (!evals[i].ok()) return evals[i].status();
    RobotReport r;
    r.embodiment = options.robots[i].embodiment;
    r.eval = std::move(*evals[i]);
    for (const client::TaskReport& t : r.eval.tasks) {
      for (const client::EpisodeResult& e : t.results) {
        for (int64_t us : e.client.round_trip_us) r.round_trip_ms.push_back(us / 1000.0);
      }
    }
    report.robots.push_back(std::move(r));
  }
  return report;
}

}  // namespace mivla::demo
