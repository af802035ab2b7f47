#include "core/model/model_config.h"

#include "gtest/gtest.h"

namespace mivla::model {
namespace {

TEST(ModelConfigTest, BuiltinsAreValid) {
  EXPECT_TRUE(ValidateConfig(TinyConfig()).ok());
  EXPECT_TRUE(ValidateConfig(BaseConfig()).ok());
}

TEST(ModelConfigTest, BaseHasThePapersTokenCounts) {
  ModelConfig base = BaseConfig();
  EXPECT_EQ(base.dino.num_patches(), 196);
  EXPECT_EQ(base.siglip.num_patches(), 196);
  EXPECT_EQ(base.vision_tokens_per_view(), 392);
  EXPECT_EQ(base.decoder.action_horizon, 16);
  EXPECT_EQ(base.decoder.sampling_steps, 5);
}

TEST(ModelConfigTest, JsonRoundTrip) {
  for (const ModelConfig& c : {TinyConfig(), BaseConfig()}) {
    absl::StatusOr<ModelConfig> back = ConfigFromJson(ConfigToJson(c));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(*back == c);
  }
}

TEST(ModelConfigTest, BadJsonNamesTheKey) {
  absl::Status s = ConfigFromJson(R"({"decoder": {"width": "wide"}})").status();
  EXPECT_EQ(s.message(), R"(model config: decoder.width: expected an integer, got "wide")") << s;
  s = ConfigFromJson(R"({"name": 7})").status();
  EXPECT_EQ(s.message(), "model config: name: expected a string, got 7") << s;
  s = ConfigFromJson(R"({"decoder": {"width": 100, "heads": 3}})").status();
  EXPECT_FALSE(s.ok());
  s = ConfigFromJson(R"({"dino": {"style": "clip"}})").status();
  EXPECT_NE(s.message().find("dino.style"), std::string::npos) << s;
  EXPECT_FALSE(ConfigFromJson("[1,2]").ok());
  EXPECT_FALSE(ConfigByName("huge").ok());
}

TEST(ModelConfigTest, UnknownKeysAreIgnored) {
  absl::StatusOr<ModelConfig> c = ConfigFromJson(R"({"name": "tiny", "future_field": 3})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "tiny");
}

}  // namespace
}  // namespace mivla::model
