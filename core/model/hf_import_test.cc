#include "core/model/hf_import.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::model {
namespace {

using ::testing::HasSubstr;

SafetensorsFile ToFile(const absl::StatusOr<NamedTensors>& tensors) {
  EXPECT_TRUE(tensors.ok()) << tensors.status();
  auto bytes = SerializeSafetensors(*tensors, {{"format", "pt"}});
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  auto file = SafetensorsFile::Parse(*bytes);
  EXPECT_TRUE(file.ok()) << file.status();
  return *std::move(file);
}

NamedTensors Without(NamedTensors tensors, const std::string& name) {
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [&](const auto& t) { return t.first == name; }),
                tensors.end());
  return tensors;
}

class VitImportTest : public ::testing::TestWithParam<std::string> {
 protected:
  VitConfig Config() const {
    const ModelConfig tiny = TinyConfig();
    return GetParam() == "dinov2" ? tiny.dino : tiny.siglip;
  }
};

TEST_P(VitImportTest, RoundTripGivesBitIdenticalOutputs) {
  torch::manual_seed(1);
  VitEncoder source(Config());
  torch::manual_seed(2);
  VitEncoder target(Config());
  const std::string prefix = "backbone.";
  SafetensorsFile file = ToFile(ExportHfVit(*source, prefix));
  if (GetParam() == "dinov2") {
    EXPECT_TRUE(file.contains("backbone.encoder.layer.1.attention.attention.query.weight"));
    EXPECT_TRUE(file.contains("backbone.embeddings.position_embeddings"));
  } else {
    EXPECT_TRUE(file.contains("backbone.vision_model.encoder.layers.1.self_attn.out_proj.bias"));
    EXPECT_TRUE(file.contains("backbone.vision_model.post_layernorm.weight"));
  }
  torch::NoGradGuard no_grad;
  torch::Tensor pixels = torch::randn({2, 3, Config().image_size, Config().image_size});
  ASSERT_FALSE(torch::equal(source->forward(pixels), target->forward(pixels)));
  ASSERT_TRUE(ImportHfVit(file, *target, prefix).ok());
  EXPECT_TRUE(torch::equal(source->forward(pixels), target->forward(pixels)));
  EXPECT_FALSE(ImportHfVit(file, *target).ok());  // wrong prefix: everything is missing
}

TEST_P(VitImportTest, MissingAndMisShapedTensorsAreNamedAndLeaveTheModuleUnchanged) {
  VitEncoder source(Config());
  VitEncoder target(Config());
  auto exported = ExportHfVit(*source);
  ASSERT_TRUE(exported.ok());
  const std::string victim = (*exported)[5].first;
  torch::Tensor before = target->parameters()[0].clone();

  auto missing = ImportHfVit(ToFile(Without(*exported, victim)), *target);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("'" + victim + "'"));

  NamedTensors reshaped = *exported;
  reshaped[5].second = torch::zeros({3, 5});
  auto wrong = ImportHfVit(ToFile(reshaped), *target);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.message()), HasSubstr("'" + victim + "' has shape [3, 5], expected ["));
  EXPECT_TRUE(torch::equal(before, target->parameters()[0]));
}

TEST_P(VitImportTest, ConvertsHalfPrecisionAndIgnoresExtraTensors) {
  VitEncoder source(Config());
  VitEncoder target(Config());
  auto exported = ExportHfVit(*source);
  ASSERT_TRUE(exported.ok());
  NamedTensors half = *exported;
  for (size_t i = 0; i < half.size(); ++i) {
    half[i].second = half[i].second.to(i % 2 ? torch::kBFloat16 : torch::kFloat16);
  }
  half.emplace_back("embeddings.mask_token", torch::zeros({1, Config().width}));
  half.emplace_back("vision_model.head.probe", torch::zeros({1, 1, Config().width}));
  ASSERT_TRUE(ImportHfVit(ToFile(half), *target).ok());
  auto again = ExportHfVit(*target);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < half.size() - 2; ++i) {
    EXPECT_TRUE(torch::equal((*again)[i].second, half[i].second.to(torch::kFloat32))) << half[i].first;
  }
}

TEST_P(VitImportTest, InfersTheConfigFromShapes) {
  VitConfig c = Config();
  c.depth = 3;
  c.mlp_dim = 40;
  c.position_grid = 5;
  VitEncoder source(c);
  VitConfig defaults;  // differs in every inferable field
  defaults.style = c.style == "dinov2" ? "siglip" : "dinov2";
  defaults.width = 32;
  defaults.patch_size = 7;
  defaults.heads = c.heads;
  if (c.style == "dinov2") defaults.image_size = c.image_size;  // the input size is not in the file
  auto inferred = InferVitConfig(ToFile(ExportHfVit(*source, "p.")), defaults, "p.");
  ASSERT_TRUE(inferred.ok()) << inferred.status();
  EXPECT_EQ(inferred->style, c.style);
  EXPECT_EQ(inferred->width, c.width);
  EXPECT_EQ(inferred->patch_size, c.patch_size);
  EXPECT_EQ(inferred->depth, 3);
  EXPECT_EQ(inferred->mlp_dim, 40);
  EXPECT_EQ(inferred->image_size, c.image_size);
  if (c.style == "dinov2") {
    EXPECT_EQ(inferred->position_grid, 5);
  }
  EXPECT_FALSE(InferVitConfig(ToFile(ExportHfVit(*source, "p.")), defaults).ok());
}

TEST_P(VitImportTest, VariantsThatWouldComputeSomethingElseAreRefusedByName) {
  VitEncoder source(Config());
  VitEncoder target(Config());
  auto exported = ExportHfVit(*source);
  ASSERT_TRUE(exported.ok());
  // A file without encoder layers (e.g. an MLP under other names) is not a zero-layer encoder.
  NamedTensors no_layers;
  for (const auto& t : *exported) {
    if (t.first.find(".mlp.fc1.") == std::string::npos) no_layers.push_back(t);
  }
  auto none = InferVitConfig(ToFile(no_layers), Config());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("no encoder layer"));
  if (GetParam() != "dinov2") return;
  NamedTensors registers = *exported;
  registers.emplace_back("embeddings.register_tokens", torch::zeros({1, 4, Config().width}));
  auto imported = ImportHfVit(ToFile(registers), *target);
  EXPECT_EQ(imported.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(imported.message()), HasSubstr("'embeddings.register_tokens': register tokens"));
  EXPECT_THAT(std::string(InferVitConfig(ToFile(registers), Config()).status().message()), HasSubstr("register"));
  NamedTensors swiglu = *exported;
  swiglu.emplace_back("encoder.layer.0.mlp.weights_in.weight", torch::zeros({8, Config().width}));
  EXPECT_THAT(std::string(InferVitConfig(ToFile(swiglu), Config()).status().message()), HasSubstr("SwiGLU"));
  EXPECT_THAT(std::string(ImportHfVit(ToFile(swiglu), *target).message()), HasSubstr("SwiGLU"));
}

INSTANTIATE_TEST_SUITE_P(Styles, VitImportTest, ::testing::Values("dinov2", "siglip"));

TEST(T5ImportTest, RoundTripGivesBitIdenticalOutputs) {
  const T5Config c = TinyConfig().text;
  torch::manual_seed(1);
  T5Encoder source(c);
  torch::manual_seed(2);
  T5Encoder target(c);
  SafetensorsFile file = ToFile(ExportHfT5(*source));
  EXPECT_TRUE(file.contains("shared.weight"));
  EXPECT_TRUE(file.contains("encoder.block.1.layer.1.DenseReluDense.wi_1.weight"));
  EXPECT_FALSE(file.contains("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"));
  torch::NoGradGuard no_grad;
  torch::Tensor ids = torch::randint(0, c.vocab_size, {2, 9}, torch::kInt64);
  torch::Tensor mask = torch::ones({2, 9}, torch::kInt64);
  mask[1].slice(0, 6).fill_(0);
  ASSERT_FALSE(torch::equal(source->forward(ids, mask), target->forward(ids, mask)));
  ASSERT_TRUE(ImportHfT5(file, *target).ok());
  EXPECT_TRUE(torch::equal(source->forward(ids, mask), target->forward(ids, mask)));

  // The embedding may be stored as encoder.embed_tokens.weight instead of shared.weight.
  NamedTensors renamed = *ExportHfT5(*source, "text.");
  renamed[0].first = "text.encoder.embed_tokens.weight";
  T5Encoder third(c);
  ASSERT_TRUE(ImportHfT5(ToFile(renamed), *third, "text.").ok());
  EXPECT_TRUE(torch::equal(source->forward(ids, mask), third->forward(ids, mask)));
}

TEST(T5ImportTest, ErrorsNameTheTensorAndInferenceRecoversTheConfig) {
  T5Config c = TinyConfig().text;
  c.layers = 3;
  c.d_kv = 8;
  c.heads = 2;
  c.num_buckets = 16;
  T5Encoder source(c);
  auto exported = ExportHfT5(*source);
  ASSERT_TRUE(exported.ok());
  T5Encoder target(c);
  const std::string rel = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight";
  auto missing = ImportHfT5(ToFile(Without(*exported, rel)), *target);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("missing tensor '" + rel + "' (expected shape [16, 2])"));
  NamedTensors wrong = *exported;
  wrong[1].second = torch::zeros({32, 2});
  EXPECT_THAT(std::string(ImportHfT5(ToFile(wrong), *target).message()),
              HasSubstr("'" + rel + "' has shape [32, 2], expected [16, 2]"));
  NamedTensors ints = *exported;
  ints[1].second = torch::zeros({16, 2}, torch::kInt32);
  EXPECT_THAT(std::string(ImportHfT5(ToFile(ints), *target).message()), HasSubstr("non-floating"));

  auto inferred = InferT5Config(ToFile(exported), T5Config{});
  ASSERT_TRUE(inferred.ok()) << inferred.status();
  EXPECT_EQ(inferred->vocab_size, c.vocab_size);
  EXPECT_EQ(inferred->d_model, c.d_model);
  EXPECT_EQ(inferred->heads, 2);
  EXPECT_EQ(inferred->d_kv, 8);
  EXPECT_EQ(inferred->d_ff, c.d_ff);
  EXPECT_EQ(inferred->layers, 3);
  EXPECT_EQ(inferred->num_buckets, 16);

  // UMT5 keeps a relative bias table in every block; ours has one.
  NamedTensors umt5 = *exported;
  umt5.emplace_back("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight", torch::zeros({16, 2}));
  EXPECT_THAT(std::string(ImportHfT5(ToFile(umt5), *target).message()), HasSubstr("(UMT5) is not supported"));
  EXPECT_EQ(InferT5Config(ToFile(umt5), T5Config{}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mivla::model
