// A HuggingFace config.json applied to shape-inferred encoder configs: the configs transformers itself
// wrote for the committed reference fixtures (testdata/hf_reference/*.json, "hf_config") set what the
// shapes cannot tell, and variants that would compute something else are refused naming the field.
// hf_reference_test.cc then runs the encoders so configured against transformers' outputs.
#include "core/model/hf_config.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "core/util/read_file.h"
#include "gtest/gtest.h"

namespace mivla::model {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// A committed fixture's JSON (testdata/hf_reference/<name>.json).
Json Fixture(const std::string& name) {
  absl::StatusOr<std::string> text =
      ReadFile(std::string(MIVLA_SOURCE_DIR) + "/core/model/testdata/hf_reference/" + name + ".json");
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? Json::parse(*text) : Json::object();
}

// The config transformers wrote for a fixture.
Json FixtureHfConfig(const std::string& name) { return Fixture(name).at("hf_config"); }

// A fixture's own encoder block (what InferVitConfig / InferT5Config give from its shapes, read as a
// model config's block), with heads and epsilons wrong, and T5's max distance too.
ModelConfig FromShapes(const char* slot, const std::string& name, const char* block) {
  absl::StatusOr<ModelConfig> c = ConfigFromJson(Json{{slot, Fixture(name).at(block)}}.dump());
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : ModelConfig();
}
VitConfig DinoFromShapes() {
  VitConfig c = FromShapes("dino", "dinov2", "vit").dino;
  c.heads = 8;
  c.eps = 1e-5;
  return c;
}
VitConfig SiglipFromShapes() {
  VitConfig c = FromShapes("siglip", "siglip", "vit").siglip;
  c.heads = 8;
  c.eps = 1e-5;
  return c;
}
T5Config T5FromShapes() {
  T5Config c = FromShapes("text", "t5", "t5").text;
  c.max_distance = 128;
  c.eps = 1e-5;
  return c;
}

// `base` with `patch` merged in (RFC 7396).
Json With(Json base, const Json& patch) {
  base.merge_patch(patch);
  return base;
}

void ExpectRefused(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("weights.safetensors: config.json " + field + ":"), std::string::npos) << s;
}

TEST(HfConfigTest, TransformersOwnConfigsSetHeadsEpsilonAndMaxDistance) {
  VitConfig dino = DinoFromShapes();
  ASSERT_TRUE(ApplyHfVitConfig(FixtureHfConfig("dinov2"), "dinov2", &dino).ok());
  EXPECT_EQ(dino.heads, 4);
  EXPECT_EQ(dino.eps, 1e-6);
  EXPECT_EQ(dino.width, 32) << "sizes stay the shapes'";

  VitConfig siglip = SiglipFromShapes();
  ASSERT_TRUE(ApplyHfVitConfig(FixtureHfConfig("siglip"), "siglip", &siglip).ok());
  EXPECT_EQ(siglip.heads, 2);
  EXPECT_EQ(siglip.eps, 1e-6);

  T5Config t5 = T5FromShapes();
  ASSERT_TRUE(ApplyHfT5Config(FixtureHfConfig("t5"), "t5", &t5).ok());
  EXPECT_EQ(t5.max_distance, 20);
  EXPECT_EQ(t5.eps, 1e-6);
  EXPECT_EQ(t5.heads, 4);
}

TEST(HfConfigTest, AWholeSiglipConfigGivesItsVisionTowersAndSizesNeedNotBeAMultipleOfThePatch) {
  Json vision = FixtureHfConfig("siglip");
  vision.erase("model_type");
  vision["image_size"] = 63;  // 63 / 16 = 3 patches a side; HF's convolution drops the last 15 pixels
  const Json whole = {{"model_type", "siglip"}, {"vision_config", vision}, {"text_config", {{"hidden_size", 7}}}};
  VitConfig c = SiglipFromShapes();
  ASSERT_TRUE(ApplyHfVitConfig(whole, "siglip", &c).ok());
  EXPECT_EQ(c.heads, 2);
  EXPECT_EQ(c.image_size, 48) << "our encoder takes the pixels HF's convolution uses";
  vision["image_size"] = 64;  // 4 patches a side: not this position table
  VitConfig d = SiglipFromShapes();
  ExpectRefused(ApplyHfVitConfig({{"model_type", "siglip"}, {"vision_config", vision}}, "weights.safetensors", &d),
                "image_size");
  EXPECT_EQ(d.heads, 8) << "unchanged on error";
  ExpectRefused(ApplyHfVitConfig({{"model_type", "siglip"}}, "weights.safetensors", &d), "vision_config");
}

TEST(HfConfigTest, VitVariantsThatWouldComputeSomethingElseAreRefusedByField) {
  const Json dino = FixtureHfConfig("dinov2");
  const Json siglip = FixtureHfConfig("siglip");
  struct Case {
    Json hf;
    bool is_dino;
    std::string field;
  };
  const Case cases[] = {
      {With(dino, {{"use_swiglu_ffn", true}}), true, "use_swiglu_ffn"},
      {With(dino, {{"num_register_tokens", 4}}), true, "num_register_tokens"},
      {With(dino, {{"hidden_act", "gelu_pytorch_tanh"}}), true, "hidden_act"},
      {With(dino, {{"hidden_size", 64}}), true, "hidden_size"},
      {With(dino, {{"mlp_ratio", 4}}), true, "mlp_ratio"},
      {With(dino, {{"num_hidden_layers", 3}}), true, "num_hidden_layers"},
      {With(dino, {{"num_attention_heads", 5}}), true, "num_attention_heads"},
      {With(dino, {{"num_attention_heads", "4"}}), true, "num_attention_heads"},
      {With(dino, {{"layer_norm_eps", 0}}), true, "layer_norm_eps"},
      {With(dino, {{"model_type", "vit"}}), true, "model_type"},
      {siglip, true, "model_type"},  // SigLIP's config for DINOv2's weights
      {With(siglip, {{"hidden_act", "gelu"}}), false, "hidden_act"},
      {With(siglip, {{"intermediate_size", 64}}), false, "intermediate_size"},
      {With(siglip, {{"patch_size", 14}}), false, "patch_size"},
  };
  for (const Case& c : cases) {
    VitConfig config = c.is_dino ? DinoFromShapes() : SiglipFromShapes();
    ExpectRefused(ApplyHfVitConfig(c.hf, "weights.safetensors", &config), c.field);
    EXPECT_EQ(config.heads, 8) << c.field;
  }
}

TEST(HfConfigTest, T5VariantsThatWouldComputeSomethingElseAreRefusedByField) {
  const Json t5 = FixtureHfConfig("t5");
  const std::pair<Json, std::string> cases[] = {
      {With(t5, {{"feed_forward_proj", "gated-silu"}}), "feed_forward_proj"},
      {With(t5, {{"feed_forward_proj", "relu"}}), "feed_forward_proj"},
      {With(t5, {{"dense_act_fn", "silu"}}), "dense_act_fn"},
      {With(t5, {{"model_type", "umt5"}}), "model_type"},
      {With(t5, {{"num_heads", 8}}), "num_heads"},
      {With(t5, {{"d_kv", 8}}), "d_kv"},
      {With(t5, {{"d_ff", 64}}), "d_ff"},
      {With(t5, {{"num_layers", 6}}), "num_layers"},
      {With(t5, {{"relative_attention_num_buckets", 32}}), "relative_attention_num_buckets"},
      {With(t5, {{"relative_attention_max_distance", 0}}), "relative_attention_max_distance"},
      {With(t5, {{"layer_norm_epsilon", -1e-6}}), "layer_norm_epsilon"},
  };
  for (const auto& [hf, field] : cases) {
    T5Config config = T5FromShapes();
    ExpectRefused(ApplyHfT5Config(hf, "weights.safetensors", &config), field);
    EXPECT_EQ(config.max_distance, 128) << field;
  }
  T5Config mt5 = T5FromShapes();
  EXPECT_TRUE(ApplyHfT5Config(With(t5, {{"model_type", "mt5"}}), "w", &mt5).ok());
  T5Config c = T5FromShapes();
  ExpectRefused(ApplyHfT5Config(With(t5, {{"relative_attention_max_distance", 4}}), "weights.safetensors", &c),
                "relative_attention_max_distance");  // not above 16 buckets / 4
  ExpectRefused(ApplyHfT5Config(Json::object(), "weights.safetensors", &c), "model_type");
  // T5 v1.0's file leaves feed_forward_proj out: transformers' default, relu.
  const absl::Status relu = ApplyHfT5Config({{"model_type", "t5"}}, "weights.safetensors", &c);
  ExpectRefused(relu, "feed_forward_proj");
  EXPECT_NE(relu.message().find("'relu' (absent: transformers' default)"), std::string::npos) << relu;
}

TEST(HfConfigTest, FieldsTheFileLeavesOutTakeTransformersDefaultsNotOurs) {
  // save_pretrained leaves a nested vision_config's defaults out (google/siglip-base-patch16-224 states
  // no heads): transformers then runs 12 heads with epsilon 1e-6, whatever the model config said.
  VitConfig wide = SiglipFromShapes();
  wide.width = 96;
  const Json sparse = {{"model_type", "siglip"}, {"vision_config", {{"model_type", "siglip_vision_model"}}}};
  ASSERT_TRUE(ApplyHfVitConfig(sparse, "siglip", &wide).ok());
  EXPECT_EQ(wide.heads, 12);
  EXPECT_EQ(wide.eps, 1e-6);
  VitConfig narrow = SiglipFromShapes();  // 32 wide: 12 heads do not fit
  const absl::Status s = ApplyHfVitConfig(sparse, "weights.safetensors", &narrow);
  ExpectRefused(s, "num_attention_heads");
  EXPECT_NE(s.message().find("12 (transformers' default) does not divide the width 32"), std::string::npos) << s;
  VitConfig dino = DinoFromShapes();
  ExpectRefused(ApplyHfVitConfig({{"num_attention_heads", 4}}, "weights.safetensors", &dino), "model_type");

  T5Config t5 = T5FromShapes();
  t5.max_distance = 20;
  ASSERT_TRUE(ApplyHfT5Config({{"model_type", "t5"}, {"feed_forward_proj", "gated-gelu"}}, "t5", &t5).ok());
  EXPECT_EQ(t5.max_distance, 128);
  EXPECT_EQ(t5.eps, 1e-6);
}

TEST(HfConfigTest, MlpRatioTruncatesAsTransformersDoes) {
  // int(32 x 3.02) = 96, the weights' MLP size; rounding would say 97.
  VitConfig dino = DinoFromShapes();
  EXPECT_TRUE(ApplyHfVitConfig(With(FixtureHfConfig("dinov2"), {{"mlp_ratio", 3.02}}), "d", &dino).ok());
  ExpectRefused(ApplyHfVitConfig(With(FixtureHfConfig("dinov2"), {{"mlp_ratio", 2.99}}), "weights.safetensors", &dino),
                "mlp_ratio");
}

TEST(HfConfigTest, ConfigJsonIsReadFromBesideTheWeights) {
  const fs::path dir = fs::path(::testing::TempDir()) / "hf_config_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string weights = (dir / "model.safetensors").string();
  absl::StatusOr<std::optional<Json>> none = ReadHfConfigBeside(weights);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  std::ofstream(dir / "config.json") << R"({"model_type": "dinov2", "num_attention_heads": 6})";
  absl::StatusOr<std::optional<Json>> read = ReadHfConfigBeside(weights);
  ASSERT_TRUE(read.ok() && read->has_value()) << read.status();
  EXPECT_EQ((**read).at("num_attention_heads"), 6);

  std::ofstream(dir / "config.json") << R"({"model_type": "dinov2",)";
  absl::StatusOr<std::optional<Json>> broken = ReadHfConfigBeside(weights);
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("config.json: not valid JSON"), std::string::npos) << broken.status();
  std::ofstream(dir / "config.json") << "[1, 2]";
  EXPECT_NE(ReadHfConfigBeside(weights).status().message().find("config.json: not a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace mivla::model
