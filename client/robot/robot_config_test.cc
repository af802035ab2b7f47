// File: robot_config_test.cc
#include "client/robot/robot_config.h"

#include "core/kinematics/embodiment_loader.h"
#include "gtest/gtest.h"

namespace mivla::client {
namespace {

TEST(RobotConfigTest, EveryShippedConfigLoads) {
  for (action::Embodiment e : {action::Embodiment::kPiper, action::Embodiment::kArx5, action::Embodiment::kLocoman,
                               action::Embodiment::kAlohaAgilex}) {
    absl::StatusOr<RobotConfig> c = LoadRobotConfig(DefaultRobotConfigPath(e));
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->embodiment, e);
    EXPECT_EQ(c->adapter.mode, RetargetMode::kAuto);
    EXPECT_FALSE(c->adapter.session_embodiment.has_value());
    // One workspace box per arm, holding the arm's home pose (where a robot starts).
    absl::StatusOr<kinematics::EmbodimentDescription> d = kinematics::LoadEmbodiment(e);
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(c->safety.workspace.size(), d->arms.size());
    for (size_t a = 0; a < d->arms.size(); ++a) {
      const Eigen::Vector3d home = d->arms[a].chain.ForwardUnchecked(d->arms[a].home).translation();
      EXPECT_TRUE(c->safety.workspace[a].contains(home)) << action::EmbodimentName(e) << " arm " << a << " home "
                                                         << home.transpose();
    }
  }
}

TEST(RobotConfigTest, ValuesAreRead) {
  absl::StatusOr<RobotConfig> c = ParseRobotConfig(R"({"embodiment": "arx5",
      "retarget": {"mode": "ik", "session_embodiment": "PIPER"},
      "scheduler": {"blend": "latest_only", "refill_threshold": 0.25},
      "safety": {"staleness_ms": 300, "workspace": [[-0.1, -0.5, 0.0, 0.6, 0.5, 0.7]]},
      "connection": {"backoff_initial_ms": 20, "backoff_max_ms": 500},
      "gripper": {"close_below": 0.03, "release_above": 0.045},
      "sim": {"control_period_s": 0.02, "real_time": false}})",
                                                   "x.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->embodiment, action::Embodiment::kArx5);
  EXPECT_EQ(c->adapter.mode, RetargetMode::kIk);
  EXPECT_EQ(c->adapter.session_embodiment, action::Embodiment::kPiper);
  EXPECT_EQ(c->scheduler.blend, BlendMode::kLatestOnly);
  EXPECT_DOUBLE_EQ(c->scheduler.refill_threshold, 0.25);
  EXPECT_EQ(c->safety.staleness_us, 300000);
  ASSERT_EQ(c->safety.workspace.size(), 1u);
  EXPECT_DOUBLE_EQ(c->safety.workspace[0].max().x(), 0.6);
  EXPECT_EQ(c->connection.backoff.initial_ms, 20);
  EXPECT_EQ(c->gripper.close_below, 0.03);
  EXPECT_EQ(c->gripper.release_above, 0.045);
  EXPECT_DOUBLE_EQ(c->sim_control_period_s, 0.02);
  EXPECT_FALSE(c->sim_real_time);
}

TEST(RobotConfigTest, ErrorsNameTheFileAndTheKey) {
  struct Case {
    const char* json;
    const char* want;
  };
  const Case cases[] = {
      {"{", "not valid JSON"},
      {R"({"embodimnt": "piper"})", "embodimnt: unknown key"},
      {R"({"safety": {"staleness_ms": "soon"}})", "safety.staleness_ms: is not a number"},
      {R"({"safety": {"velocity_scale": 3}})", "safety.velocity_scale: 3 is outside"},
      {R"({"safety": {"workspace": [[0, 0, 0, -1, 1, 1]]}})", "safety.workspace[0]: min must be below max"},
      {R"({"scheduler": {"blend": "average"}})", "scheduler.blend: 'average'"},
      {R"({"retarget": {"mode": "magic"}})", "retarget.mode"},
      {R"({"embodiment": "robodog"})", "embodiment:"},
      {R"({"connection": {"backoff_initial_ms": 100, "backoff_max_ms": 10}})", "connection.backoff_max_ms"},
      {R"({"gripper": {"close_below": 0.5}})", "gripper.close_below: 0.5 is outside the"},
      {R"({"gripper": {"close_below": 0.05, "release_above": 0.01}})", "gripper.release_above: 0.01 is outside"},
      {R"({"gripper": {"close_above": 0.05}})", "gripper.close_above: unknown key"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<RobotConfig> r = ParseRobotConfig(c.json, "cfg.json");
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.status().message().find("cfg.json: "), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << r.status() << " want " << c.want;
  }
  EXPECT_EQ(LoadRobotConfig("/nonexistent.json").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mivla::client
