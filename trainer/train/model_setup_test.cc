// The starting model of a run: pretrain imports HuggingFace-named encoder weights when given (and the
// encoder configs follow the files' shapes); finetune takes a checkpoint's weights, normalisation and
// tokenizer; the modes refuse each other's fields; bad files are errors naming them.
#include "trainer/train/model_setup.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "core/checkpoint/model_checkpoint.h"
#include "core/model/hf_import.h"
#include "core/model/safetensors.h"
#include "core/tokenizer/tokenizer.h"
#include "gtest/gtest.h"
#include "trainer/train/test_batches.h"

namespace mivla::trainer {
namespace {
namespace fs = std::filesystem;

std::string Dir() {
  fs::path p = fs::path(::testing::TempDir()) / "model_setup_test";
  fs::create_directories(p);
  return p.string();
}

TEST(ModelSetupTest, PretrainImportsHuggingFaceEncoders) {
  // "HuggingFace" files: encoders of another tiny model (DINOv2 with a deeper stack), under HF names.
  torch::manual_seed(42);
  model::ModelConfig other = model::TinyConfig();
  other.dino.depth = 3;
  model::MivlaModel source(other);
  auto dino = model::ExportHfVit(*source->dino());
  auto t5 = model::ExportHfT5(*source->text_encoder());
  ASSERT_TRUE(dino.ok() && t5.ok());
  const std::string dino_path = Dir() + "/dinov2.safetensors", t5_path = Dir() + "/t5.safetensors";
  ASSERT_TRUE(model::WriteSafetensors(dino_path, *dino).ok());
  ASSERT_TRUE(model::WriteSafetensors(t5_path, *t5).ok());

  TrainConfig c;
  c.seed = 1;
  c.hf_dinov2 = dino_path;
  c.hf_t5 = t5_path;
  c.freeze_vision = true;
  auto m = BuildInitialModel(c, TrainMode::kPretrain);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->model->config().dino.depth, 3);  // from the file's shapes
  EXPECT_EQ(testing::MaxAbsDifference(*m->model->dino(), *source->dino()), 0.0);
  EXPECT_EQ(testing::MaxAbsDifference(*m->model->text_encoder(), *source->text_encoder()), 0.0);
  EXPECT_GT(testing::MaxAbsDifference(*m->model->siglip(), *source->siglip()), 0.0);  // not imported
  for (const auto& p : m->model->dino()->parameters()) EXPECT_FALSE(p.requires_grad());
  EXPECT_FALSE(m->normalization.has_value());

  c.hf_siglip = Dir() + "/missing.safetensors";
  auto bad = BuildInitialModel(c, TrainMode::kPretrain);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("missing.safetensors"), std::string::npos) << bad.status();
}

TEST(ModelSetupTest, PretrainTakesHeadsAndActivationsFromTheConfigJsonBesideTheWeights) {
  // A HF model folder: model.safetensors and config.json. The heads are in no tensor's shape.
  torch::manual_seed(43);
  model::MivlaModel source(model::TinyConfig());
  auto dino = model::ExportHfVit(*source->dino());
  auto t5 = model::ExportHfT5(*source->text_encoder());
  ASSERT_TRUE(dino.ok() && t5.ok());
  const fs::path dino_dir = fs::path(Dir()) / "dinov2-folder", t5_dir = fs::path(Dir()) / "t5-folder";
  fs::create_directories(dino_dir);
  fs::create_directories(t5_dir);
  ASSERT_TRUE(model::WriteSafetensors((dino_dir / "model.safetensors").string(), *dino).ok());
  ASSERT_TRUE(model::WriteSafetensors((t5_dir / "model.safetensors").string(), *t5).ok());
  std::ofstream(dino_dir / "config.json") << R"({"model_type": "dinov2", "num_attention_heads": 4,
                                                "layer_norm_eps": 1e-5, "hidden_act": "gelu"})";
  std::ofstream(t5_dir / "config.json") << R"({"model_type": "t5", "feed_forward_proj": "gated-silu"})";

  TrainConfig c;
  c.hf_dinov2 = (dino_dir / "model.safetensors").string();
  auto m = BuildInitialModel(c, TrainMode::kPretrain);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NE(model::TinyConfig().dino.heads, 4);
  EXPECT_EQ(m->model->config().dino.heads, 4);
  EXPECT_EQ(m->model->config().dino.eps, 1e-5);

  c.hf_t5 = (t5_dir / "model.safetensors").string();
  auto silu = BuildInitialModel(c, TrainMode::kPretrain);
  ASSERT_FALSE(silu.ok());
  EXPECT_EQ(silu.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(silu.status().message().find("encoders.hf_t5: "), std::string::npos) << silu.status();
  EXPECT_NE(silu.status().message().find("config.json feed_forward_proj: 'gated-silu' is not supported"),
            std::string::npos)
      << silu.status();
}

TEST(ModelSetupTest, TheConfigJsonsHeadsNeedNotFitTheModelConfigsOnes) {
  // A 70-wide DINOv2 with 5 heads under a model config of 4 heads (which do not divide 70): the
  // config.json's heads are applied before anything checks them.
  torch::manual_seed(44);
  model::ModelConfig other = model::TinyConfig();
  other.dino.width = 70;
  other.dino.heads = 5;
  model::MivlaModel source(other);
  auto dino = model::ExportHfVit(*source->dino());
  ASSERT_TRUE(dino.ok());
  const fs::path dir = fs::path(Dir()) / "dinov2-70";
  fs::create_directories(dir);
  ASSERT_TRUE(model::WriteSafetensors((dir / "model.safetensors").string(), *dino).ok());
  std::ofstream(dir / "config.json") << R"({"model_type": "dinov2", "num_attention_heads": 5})";
  TrainConfig c;
  c.model_overrides = nlohmann::json::parse(R"({"dino": {"heads": 4}})");
  c.hf_dinov2 = (dir / "model.safetensors").string();
  auto m = BuildInitialModel(c, TrainMode::kPretrain);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->model->config().dino.width, 70);
  EXPECT_EQ(m->model->config().dino.heads, 5);
  EXPECT_EQ(testing::MaxAbsDifference(*m->model->dino(), *source->dino()), 0.0);
}

TEST(ModelSetupTest, FinetuneStartsFromTheCheckpoint) {
  torch::manual_seed(7);
  checkpoint::PolicyBundle b;
  b.model_version = "pre-00000010";
  b.config = model::TinyConfig();
  b.model = model::MivlaModel(b.config);
  action::NormalizationStatsBuilder nb;
  std::vector<float> v(action::kActionDim, 0.5f);
  nb.Add(action::Embodiment::kPiper, v.data(), action::EmbodimentMask(action::Embodiment::kPiper));
  v.assign(action::kActionDim, 2.5f);
  nb.Add(action::Embodiment::kPiper, v.data(), action::EmbodimentMask(action::Embodiment::kPiper));
  b.normalization = nb.Build();
  b.tokenizer_model = "spm-bytes";
  const std::string path = Dir() + "/pre.mivla";
  ASSERT_TRUE(checkpoint::SaveModelCheckpoint(path, b).ok());

  TrainConfig c;
  c.init_checkpoint = path;
  c.freeze_text = true;
  auto m = BuildInitialModel(c, TrainMode::kFinetune);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(testing::MaxAbsDifference(*m->model, *b.model), 0.0);
  ASSERT_TRUE(m->normalization.has_value());
  EXPECT_TRUE(*m->normalization == b.normalization);
  EXPECT_EQ(m->tokenizer_model, "spm-bytes");
  EXPECT_TRUE(m->model->is_training());
  for (const auto& p : m->model->text_encoder()->parameters()) EXPECT_FALSE(p.requires_grad());
  c.keep_normalization = false;
  EXPECT_FALSE(BuildInitialModel(c, TrainMode::kFinetune)->normalization.has_value());
  // The init checkpoint's identity, for resuming: the same file reads the same; other weights saved to
  // the same path (a re-run pre-training) read differently.
  ASSERT_EQ(m->init_fingerprint.size(), 16u);
  EXPECT_EQ(*CheckpointFingerprint(path), m->init_fingerprint);
  torch::manual_seed(8);
  b.model = model::MivlaModel(b.config);
  ASSERT_TRUE(checkpoint::SaveModelCheckpoint(path, b).ok());
  EXPECT_NE(BuildInitialModel(c, TrainMode::kFinetune)->init_fingerprint, m->init_fingerprint);

  // Each mode refuses the other's start.
  EXPECT_FALSE(BuildInitialModel(c, TrainMode::kPretrain).ok());
  c.init_checkpoint.clear();
  EXPECT_FALSE(BuildInitialModel(c, TrainMode::kFinetune).ok());
  c.init_checkpoint = Dir() + "/absent.mivla";
  auto absent = BuildInitialModel(c, TrainMode::kFinetune);
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.status().message().find("absent.mivla"), std::string::npos);
}

TEST(ModelSetupTest, ModelOverridesChangeTheNamedConfigAndMisspeltKeysAreErrors) {
  TrainConfig c;
  c.model = "tiny";
  c.model_overrides = nlohmann::json::parse(R"({"dino": {"image_size": 112, "position_grid": 8},
                                                "siglip": {"image_size": 128}})");
  absl::StatusOr<model::ModelConfig> mc = ConfigWithOverrides(c);
  ASSERT_TRUE(mc.ok()) << mc.status();
  EXPECT_EQ(mc->dino.image_size, 112);
  EXPECT_EQ(mc->dino.position_grid, 8);
  EXPECT_EQ(mc->siglip.image_size, 128);
  EXPECT_EQ(mc->dino.width, model::TinyConfig().dino.width);        // untouched fields stay
  EXPECT_EQ(mc->decoder.depth, model::TinyConfig().decoder.depth);

  absl::StatusOr<InitialModel> m = BuildInitialModel(c, TrainMode::kPretrain);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->model->config().dino.image_size, 112);

  c.model_overrides = nlohmann::json::parse(R"({"dino": {"imag_size": 112}})");
  absl::Status misspelt = ConfigWithOverrides(c).status();
  EXPECT_EQ(misspelt.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(misspelt.message().find("model_overrides.dino.imag_size"), std::string::npos) << misspelt;

  c.model_overrides = nlohmann::json::parse(R"({"decoder": {"width": 250}})");  // not divisible by heads * 2
  EXPECT_EQ(ConfigWithOverrides(c).status().code(), absl::StatusCode::kInvalidArgument);

  c.model_overrides = nlohmann::json::object();
  ASSERT_TRUE(ConfigWithOverrides(c).ok());
  EXPECT_TRUE(*ConfigWithOverrides(c) == model::TinyConfig());
}

TEST(ModelSetupTest, AnEmptyTokenizerIsTheBundledOneAndABadPathNamesTheField) {
  TrainConfig c;
  auto bundled = ResolveTokenizerModel(c, TrainMode::kPretrain);  // found above the test binary's directory
  ASSERT_TRUE(bundled.ok()) << bundled.status();
  EXPECT_TRUE(tokenizer::Tokenizer::FromSerializedModel(*bundled).ok());
  auto m = BuildInitialModel(c, TrainMode::kPretrain);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->tokenizer_model, *bundled);
  auto finetune = ResolveTokenizerModel(c, TrainMode::kFinetune);  // the checkpoint's is used
  ASSERT_TRUE(finetune.ok());
  EXPECT_EQ(*finetune, "");
  c.tokenizer = Dir() + "/no.model";
  auto bad = ResolveTokenizerModel(c, TrainMode::kPretrain);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("data.tokenizer"), std::string::npos) << bad.status();
  EXPECT_NE(bad.status().message().find("no.model"), std::string::npos) << bad.status();
  EXPECT_FALSE(BuildInitialModel(c, TrainMode::kPretrain).ok());
}

}  // namespace
}  // namespace mivla::trainer
