// File: ablation_config_test.cc
#include "trainer/ablation/ablation_config.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::trainer::ablation {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

json Micro() {
  std::ifstream in(std::string(MIVLA_SOURCE_DIR) + "/trainer/configs/ablation_micro.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::string Error(const json& j) {
  auto c = ParseAblationConfig(j.dump(), "abl.json");
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(AblationConfigTest, ShippedConfigsParse) {
  for (const char* name : {"ablation_micro.json", "ablation_tiny.json"}) {
    SCOPED_TRACE(name);
    auto c = LoadAblationConfig(std::string(MIVLA_SOURCE_DIR) + "/trainer/configs/" + name);
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_EQ(c->variants.size(), 4u);
    EXPECT_EQ(c->variants[0].name, "a");
    EXPECT_FALSE(c->variants[0].pretrain);
    EXPECT_TRUE(c->variants[1].loss["human"].get<bool>());
    EXPECT_FALSE(c->variants[1].loss["human_to_robot"].get<bool>());
    EXPECT_TRUE(c->variants[2].loss["human_to_robot"].get<bool>());
    EXPECT_FALSE(c->variants[2].loss["robot"].get<bool>());
    EXPECT_TRUE(c->variants[3].loss["robot"].get<bool>());
    EXPECT_GT(c->variants[3].sources.size(), c->variants[1].sources.size());
    EXPECT_FALSE(c->eval.tasks.empty());
  }
}

TEST(AblationConfigTest, ErrorsNameTheFileAndField) {
  json j = Micro();
  j["colour"] = "red";
  EXPECT_THAT(Error(j), HasSubstr("abl.json: colour: unknown field"));

  j = Micro();
  j["pretrain"]["variants"][1]["colour"] = 1;
  EXPECT_THAT(Error(j), HasSubstr("abl.json: pretrain.variants[1].colour: unknown field"));

  j = Micro();
  j["pretrain"]["variants"][1]["sources"] = {"hum"};
  EXPECT_THAT(Error(j), HasSubstr("pretrain.variants[1].sources[0]: no datagen set named 'hum'"));

  j = Micro();
  j["pretrain"]["base"]["output_dir"] = "x";
  EXPECT_THAT(Error(j), HasSubstr("pretrain.base.output_dir: set by the ablation"));

  j = Micro();
  j["finetune"]["base"]["data"]["sources"] = json::array();
  EXPECT_THAT(Error(j), HasSubstr("finetune.base.data.sources: set by the ablation"));

  j = Micro();
  j["eval"]["modes"] = {"medium"};
  EXPECT_THAT(Error(j), HasSubstr("eval.modes[0]: 'medium'"));

  j = Micro();
  j["datagen"][1]["name"] = j["datagen"][0]["name"];
  EXPECT_THAT(Error(j), HasSubstr("datagen[1].name: 'human' is used twice"));

  j = Micro();
  j["datagen"][0]["episodes"] = "two";
  EXPECT_THAT(Error(j), HasSubstr("datagen[0].episodes: expected an integer"));

  j = Micro();
  j["datagen"][0]["embodiment"] = "robot";
  EXPECT_THAT(Error(j), HasSubstr("datagen[0].embodiment: 'robot'"));

  j = Micro();
  j["pretrain"]["variants"][0]["sources"] = {"human"};
  EXPECT_THAT(Error(j), HasSubstr("pretrain.variants[0].sources: a variant without pre-training"));

  j = Micro();
  j["pretrain"]["variants"][1].erase("sources");
  EXPECT_THAT(Error(j), HasSubstr("pretrain.variants[1].sources: a pre-trained variant needs data"));

  j = Micro();
  j.erase("output_dir");
  EXPECT_THAT(Error(j), HasSubstr("abl.json: output_dir: required"));

  auto bad = ParseAblationConfig("{not json", "abl.json");
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("abl.json: not valid JSON"));
  EXPECT_EQ(LoadAblationConfig("/nonexistent/abl.json").status().code(), absl::StatusCode::kNotFound);
}

TEST(AblationConfigTest, WeightedSourcesAndDefaults) {
  json j = Micro();
  j["pretrain"]["variants"][3]["sources"] = {"human", {{"set", "robot_sim"}, {"weight", 2.5}}};
  j["eval"].erase("modes");
  auto c = ParseAblationConfig(j.dump(), "abl.json");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->variants[3].sources.size(), 2u);
  EXPECT_EQ(c->variants[3].sources[1].set, "robot_sim");
  EXPECT_DOUBLE_EQ(c->variants[3].sources[1].weight, 2.5);
  EXPECT_EQ(c->eval.modes, (std::vector<std::string>{"easy", "hard"}));
  j["pretrain"]["variants"][3]["sources"][1]["weight"] = 0;
  EXPECT_THAT(Error(j), HasSubstr("pretrain.variants[3].sources[1].weight: must be > 0"));
}

}  // namespace
}  // namespace mivla::trainer::ablation
