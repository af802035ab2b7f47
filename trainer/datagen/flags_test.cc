// File: flags_test.cc
#include "trainer/datagen/flags.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "trainer/datagen/generator.h"

namespace mivla::datagen {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<DatagenFlags> Parse(std::vector<std::string> args) { return ParseDatagenFlags(args); }

std::string Error(std::vector<std::string> args) {
  absl::StatusOr<DatagenFlags> f = Parse(std::move(args));
  EXPECT_FALSE(f.ok());
  return f.ok() ? "" : std::string(f.status().message());
}

TEST(DatagenFlags, ListJsonNamesEveryTaskWithItsEmbodiments) {
  const nlohmann::json j = nlohmann::json::parse(ListJson());
  ASSERT_TRUE(j.contains("tasks"));
  ASSERT_GE(j["tasks"].size(), 6u);
  for (const auto& t : j["tasks"]) {
    const std::vector<std::string> e = t["embodiments"];
    EXPECT_THAT(e, ::testing::Contains("human")) << t["name"];
    if (t["two_arm"].get<bool>()) {
      EXPECT_THAT(e, ::testing::UnorderedElementsAre("aloha", "locoman", "human")) << t["name"];
    } else {
      EXPECT_THAT(e, ::testing::UnorderedElementsAre("piper", "arx5", "locoman", "human")) << t["name"];
    }
  }
}

TEST(DatagenFlags, EmbodimentNamesRoundTrip) {
  for (const char* name : {"human", "piper", "arx5", "locoman", "aloha"}) {
    absl::StatusOr<action::Embodiment> e = ParseCliEmbodiment(name);
    ASSERT_TRUE(e.ok()) << name;
    EXPECT_EQ(CliEmbodimentName(*e), name);
  }
  absl::StatusOr<action::Embodiment> bad = ParseCliEmbodiment("PIPER");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("unknown embodiment 'PIPER' (valid: human, piper, arx5, locoman, aloha)"));
}

TEST(DatagenFlags, GenerateWithDefaults) {
  absl::StatusOr<DatagenFlags> f =
      Parse({"--task", "press_bell", "--embodiment", "arx5", "--episodes", "3", "--out=/tmp/x", "--seed", "42"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->command, DatagenFlags::Command::kGenerate);
  EXPECT_EQ(f->generate.task, "press_bell");
  EXPECT_EQ(f->generate.embodiment, action::Embodiment::kArx5);
  EXPECT_EQ(f->generate.episodes, 3);
  EXPECT_EQ(f->generate.seed, 42u);
  EXPECT_EQ(f->generate.mode, sim::Mode::kEasy);
  EXPECT_EQ(f->generate.out_dir, "/tmp/x");
  EXPECT_EQ(f->generate.workers, std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
  f = Parse({"--task", "lift_pot", "--embodiment", "aloha", "--episodes", "1", "--out", "d", "--mode", "hard",
             "--workers", "3", "--no-progress"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->generate.mode, sim::Mode::kHard);
  EXPECT_EQ(f->generate.workers, 3);
  EXPECT_FALSE(f->generate.progress);
}

TEST(DatagenFlags, ListAndPreview) {
  absl::StatusOr<DatagenFlags> f = Parse({"--list"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->command, DatagenFlags::Command::kList);
  f = Parse({"--preview", "--out", "sheet.png", "--seed", "5"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->command, DatagenFlags::Command::kPreview);
  EXPECT_EQ(f->preview.out_png, "sheet.png");
  EXPECT_EQ(f->preview.seed, 5u);
  EXPECT_THAT(Error({"--preview", "--out", "sheet.jpg"}), HasSubstr("--out: 'sheet.jpg' must end in .png"));
  EXPECT_THAT(Error({"--preview"}), HasSubstr("--out: required with --preview"));
  f = Parse({"--preview", "--out", "s.png", "--task", "lift_pot", "--scale", "1"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->preview.task, "lift_pot");
  EXPECT_DOUBLE_EQ(f->preview.scale, 1.0);
  EXPECT_THAT(Error({"--preview", "--out", "s.png", "--scale", "9"}), HasSubstr("--scale: '9': expected a number in"));
  EXPECT_THAT(Error({"--preview", "--out", "s.png", "--task", "x"}), HasSubstr("--task: unknown task 'x'"));
  EXPECT_THAT(Error({"--task", "lift_pot", "--embodiment", "aloha", "--episodes", "1", "--out", "d", "--scale", "1"}),
              HasSubstr("--scale: only with --preview"));
}

TEST(DatagenFlags, ErrorsNameTheFlagAndTheReason) {
  const std::vector<std::string> ok = {"--embodiment", "piper", "--episodes", "2", "--out", "d"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = ok;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  EXPECT_THAT(Error(with({"--task", "fold_towel"})),
              HasSubstr("--task: unknown task 'fold_towel' (valid: move_bottle_pad, "));
  EXPECT_THAT(Error({"--task", "press_bell", "--embodiment", "franka", "--episodes", "2", "--out", "d"}),
              HasSubstr("--embodiment: unknown embodiment 'franka' (valid: human, piper"));
  EXPECT_THAT(Error({"--task", "lift_pot", "--embodiment", "piper", "--episodes", "2", "--out", "d"}),
              HasSubstr("--embodiment: task 'lift_pot' does not support 'piper' (it supports: aloha, locoman, human)"));
  EXPECT_THAT(Error({"--task", "press_bell", "--embodiment", "piper", "--episodes", "many", "--out", "d"}),
              HasSubstr("--episodes: 'many' is not a whole number"));
  EXPECT_THAT(Error({"--task", "press_bell", "--embodiment", "piper", "--episodes", "0", "--out", "d"}),
              HasSubstr("--episodes: 0 is out of range [1, 1000000]"));
  EXPECT_THAT(Error(with({"--task", "press_bell", "--seed", "-3"})), HasSubstr("--seed: '-3' is not a whole number"));
  EXPECT_THAT(Error(with({"--task", "press_bell", "--workers", "0"})), HasSubstr("--workers: 0 is out of range"));
  EXPECT_THAT(Error(with({"--task", "press_bell", "--mode", "medium"})),
              HasSubstr("--mode: 'medium': expected 'easy' or 'hard'"));
  EXPECT_THAT(Error(with({"--task", "press_bell", "--frobnicate"})), HasSubstr("--frobnicate: unknown flag"));
  EXPECT_THAT(Error(with({"--task", "press_bell", "--seed"})), HasSubstr("--seed: needs a value"));
  EXPECT_THAT(Error(with({"--task", "press_bell", "--task", "lift_pot"})), HasSubstr("--task: given twice"));
  EXPECT_THAT(Error({"--task", "press_bell", "--embodiment", "piper", "--out", "d"}),
              HasSubstr("--episodes: required"));
  EXPECT_THAT(Error({"--list", "--no-progress=1"}), HasSubstr("--no-progress: takes no value"));
}

TEST(DatagenFlags, TakeoverFlags) {
  const std::vector<std::string> base = {
      "--task", "place_block_basket", "--embodiment", "piper", "--episodes", "2", "--out", "d"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  absl::StatusOr<DatagenFlags> plain = ParseDatagenFlags(base);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->generate.policy_server.empty());
  absl::StatusOr<DatagenFlags> f = ParseDatagenFlags(
      with({"--policy-server", "localhost:50051", "--robot-config", "r.json", "--takeover-ticks", "5:40"}));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->generate.policy_server, "localhost:50051");
  EXPECT_EQ(f->generate.robot_config, "r.json");
  EXPECT_EQ(f->generate.takeover_min_ticks, 5);
  EXPECT_EQ(f->generate.takeover_max_ticks, 40);
  absl::StatusOr<DatagenFlags> d = ParseDatagenFlags(with({"--policy-server", "h:1"}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->generate.takeover_min_ticks, 10);
  EXPECT_EQ(d->generate.takeover_max_ticks, 120);

  EXPECT_THAT(Error(with({"--policy-server", "localhost"})),
              HasSubstr("--policy-server: 'localhost': expected HOST:PORT"));
  EXPECT_THAT(Error(with({"--takeover-ticks", "5:40"})), HasSubstr("--takeover-ticks: only with --policy-server"));
  EXPECT_THAT(Error(with({"--robot-config", "r.json"})), HasSubstr("--robot-config: only with --policy-server"));
  for (const char* bad : {"40:5", "0:5", "5", "a:b", "5:"}) {
    EXPECT_THAT(Error(with({"--policy-server", "h:1", "--takeover-ticks", bad})),
                HasSubstr("--takeover-ticks: '" + std::string(bad) + "': expected MIN:MAX"));
  }
  EXPECT_THAT(Error({"--task", "press_bell", "--embodiment", "human", "--episodes", "2", "--out", "d",
                     "--policy-server", "h:1"}),
              HasSubstr("--policy-server: a policy drives robots, not the human"));
}

TEST(DatagenSeeds, DependOnRunSeedIndexAndAttempt) {
  std::set<uint64_t> seen;
  for (uint64_t s : {0u, 1u, 2u}) {
    for (int i = 0; i < 20; ++i) {
      for (int a = 0; a < 3; ++a) seen.insert(EpisodeSeed(s, i, a));
    }
  }
  EXPECT_EQ(seen.size(), 3u * 20u * 3u);
  EXPECT_EQ(EpisodeSeed(7, 3, 1), EpisodeSeed(7, 3, 1));
}

}  // namespace
}  // namespace mivla::datagen
