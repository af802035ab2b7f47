// File: stage_plan_test.cc
#include "trainer/ablation/stage_plan.h"

#include <fstream>
#include <map>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "trainer/ablation/eta.h"

namespace mivla::trainer::ablation {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

json Micro() {
  std::ifstream in(std::string(MIVLA_SOURCE_DIR) + "/trainer/configs/ablation_micro.json");
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str());
  j["output_dir"] = "/tmp/plan_test_out";
  return j;
}

Plan MakePlan(const json& j) {
  auto c = ParseAblationConfig(j.dump(), "abl.json");
  EXPECT_TRUE(c.ok()) << c.status();
  auto p = BuildPlan(*c, Binaries{"/b/mivla-datagen", "/b/mivla-train", "/b/mivla-server", "/b/mivla-eval"});
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

const Stage& Find(const Plan& p, const std::string& name) {
  for (const Stage& s : p.stages) {
    if (s.name == name) return s;
  }
  ADD_FAILURE() << "no stage " << name;
  return p.stages.front();
}

std::map<std::string, std::string> Hashes(const Plan& p) {
  std::map<std::string, std::string> h;
  for (const Stage& s : p.stages) h[s.name] = s.spec_hash;
  return h;
}

TEST(StagePlanTest, StagesCommandsAndGeneratedConfigs) {
  const Plan p = MakePlan(Micro());
  std::vector<std::string> names;
  for (const Stage& s : p.stages) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("data/human", "data/robot_sim", "data/piper_ft", "finetune/a", "pretrain/b",
                                 "finetune/b", "pretrain/c", "finetune/c", "pretrain/d", "finetune/d",
                                 "eval/a/press_bell/easy", "eval/b/press_bell/easy", "eval/c/press_bell/easy",
                                 "eval/d/press_bell/easy", "report"));
  const Stage& data = Find(p, "data/robot_sim");
  EXPECT_THAT(data.argv, ::testing::Contains("arx5"));
  EXPECT_EQ(data.dir, "/tmp/plan_test_out/data/robot_sim");
  EXPECT_EQ(data.log_path, "/tmp/plan_test_out/logs/data_robot_sim.log");

  // (a): a fresh model trained on the fine-tune data with the fine-tune settings.
  const Stage& fa = Find(p, "finetune/a");
  EXPECT_EQ(fa.argv[1], "pretrain");
  EXPECT_FALSE(fa.train_config.contains("init_checkpoint"));
  EXPECT_EQ(fa.train_config["model"], "tiny");
  EXPECT_THAT(fa.deps, ElementsAre("data/piper_ft"));
  // (b): pre-trained on human data with the human term only, fine-tuned from its last checkpoint.
  const Stage& pb = Find(p, "pretrain/b");
  EXPECT_EQ(pb.train_config["data"]["sources"].size(), 1u);
  EXPECT_EQ(pb.train_config["data"]["sources"][0]["path"], "/tmp/plan_test_out/data/human");
  EXPECT_EQ(pb.train_config["loss"]["human"], true);
  EXPECT_EQ(pb.train_config["loss"]["robot"], false);
  EXPECT_EQ(pb.final_checkpoint, "/tmp/plan_test_out/pretrain/b/pretrain-b-00000004.mivla");
  EXPECT_EQ(pb.units, 4);
  const Stage& fb = Find(p, "finetune/b");
  EXPECT_EQ(fb.argv[1], "finetune");
  EXPECT_EQ(fb.train_config["init_checkpoint"], pb.final_checkpoint);
  EXPECT_EQ(fb.train_config["loss"]["robot"], true);
  EXPECT_THAT(fb.deps, ElementsAre("data/piper_ft", "pretrain/b"));
  EXPECT_EQ(fb.train_config_path, "/tmp/plan_test_out/configs/finetune_b.json");
  // (d): human and robot data, all four terms.
  const Stage& pd = Find(p, "pretrain/d");
  EXPECT_EQ(pd.train_config["data"]["sources"].size(), 2u);
  for (const char* t : {"robot", "robot_to_human", "human", "human_to_robot"}) {
    EXPECT_EQ(pd.train_config["loss"][t], true);
  }
  // Eval: the server on the fine-tuned checkpoint, mivla-eval with the cell's task, mode and seeds.
  const Stage& e = Find(p, "eval/d/press_bell/easy");
  EXPECT_EQ(e.serve_checkpoint, Find(p, "finetune/d").final_checkpoint);
  EXPECT_THAT(e.argv, ::testing::Contains("/tmp/plan_test_out/serve/d"));
  EXPECT_THAT(e.eval_argv, ::testing::IsSupersetOf({"--task", "press_bell", "--mode", "easy", "100000", "--max-steps"}));
  EXPECT_EQ(Find(p, "report").deps.size(), 4u);
}

TEST(StagePlanTest, SpecHashesFollowTheInputs) {
  const auto base = Hashes(MakePlan(Micro()));
  json j = Micro();
  j["eval"]["episodes"] = 3;
  auto h = Hashes(MakePlan(j));
  EXPECT_EQ(h["pretrain/d"], base.at("pretrain/d"));
  EXPECT_EQ(h["finetune/d"], base.at("finetune/d"));
  EXPECT_NE(h["eval/d/press_bell/easy"], base.at("eval/d/press_bell/easy"));
  EXPECT_NE(h["report"], base.at("report"));

  j = Micro();
  j["pretrain"]["variants"][3]["loss"]["robot"] = false;  // only variant d changes
  h = Hashes(MakePlan(j));
  EXPECT_NE(h["pretrain/d"], base.at("pretrain/d"));
  EXPECT_NE(h["finetune/d"], base.at("finetune/d"));
  EXPECT_NE(h["eval/d/press_bell/easy"], base.at("eval/d/press_bell/easy"));
  EXPECT_EQ(h["pretrain/c"], base.at("pretrain/c"));
  EXPECT_EQ(h["eval/c/press_bell/easy"], base.at("eval/c/press_bell/easy"));

  j = Micro();
  j["datagen"][2]["episodes"] = 2;  // the fine-tune data: every fine-tune and eval, no pre-training
  h = Hashes(MakePlan(j));
  EXPECT_EQ(h["pretrain/b"], base.at("pretrain/b"));
  EXPECT_NE(h["finetune/a"], base.at("finetune/a"));
  EXPECT_NE(h["finetune/b"], base.at("finetune/b"));
  EXPECT_EQ(h["data/human"], base.at("data/human"));
}

TEST(StagePlanTest, BadTrainFieldsNameTheAblationFileAndVariant) {
  json j = Micro();
  j["pretrain"]["base"]["optim"]["lr"] = "fast";
  auto c = ParseAblationConfig(j.dump(), "abl.json");
  ASSERT_TRUE(c.ok()) << c.status();
  auto p = BuildPlan(*c, Binaries{});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("abl.json: pretrain.base (variant b)"));
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("optim.lr"));

  j = Micro();
  j["finetune"]["base"]["colour"] = 1;
  c = ParseAblationConfig(j.dump(), "abl.json");
  ASSERT_TRUE(c.ok()) << c.status();
  p = BuildPlan(*c, Binaries{});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("finetune.base (variant a)"));
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("colour"));
}

TEST(EtaModelTest, RatesFromFinishedAndRunningStages) {
  Stage pre, fine, ev;
  pre.kind = StageKind::kPretrain;
  pre.units = 100;
  fine.kind = StageKind::kFinetune;
  fine.units = 50;
  ev.kind = StageKind::kEval;
  ev.units = 20;
  EtaModel m;
  EXPECT_FALSE(m.Remaining(pre, 0).has_value());
  m.AddFinished(pre, 200);                       // 2 s per step
  EXPECT_DOUBLE_EQ(*m.Remaining(pre, 0), 200);
  EXPECT_DOUBLE_EQ(*m.Remaining(pre, 0.25), 150);
  EXPECT_DOUBLE_EQ(*m.Remaining(fine, 0), 100);  // falls back to the pre-training rate
  EXPECT_FALSE(m.Remaining(ev, 0).has_value());
  m.SetRunning(fine, 0.5, 100);                  // 4 s per step so far
  EXPECT_DOUBLE_EQ(*m.Remaining(fine, 0.5), 100);
  EXPECT_EQ(FormatSeconds(3725), "1h02m");
  EXPECT_EQ(FormatSeconds(65), "1m05s");
}

}  // namespace
}  // namespace mivla::trainer::ablation
