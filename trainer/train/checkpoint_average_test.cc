// Checkpoint averaging: the result's weights are the inputs' mean (and serve as a checkpoint); inputs
// that are not checkpoints of the same model (config, normalisation, tokenizer) are refused, naming
// the file.
#include "trainer/train/checkpoint_average.h"

#include <torch/torch.h>

#include <filesystem>

#include "gtest/gtest.h"

namespace mivla::trainer {
namespace {
namespace fs = std::filesystem;

std::string Dir() {
  fs::path p = fs::path(::testing::TempDir()) / "checkpoint_average_test";
  fs::create_directories(p);
  return p.string();
}

action::NormalizationStats Stats(float lo, float hi) {
  action::NormalizationStatsBuilder nb;
  std::vector<float> v(action::kActionDim, lo);
  nb.Add(action::Embodiment::kPiper, v.data(), action::EmbodimentMask(action::Embodiment::kPiper));
  v.assign(action::kActionDim, hi);
  nb.Add(action::Embodiment::kPiper, v.data(), action::EmbodimentMask(action::Embodiment::kPiper));
  return nb.Build();
}

/// A freshly initialised tiny model (seeded) saved as `name`.mivla; returns the path.
std::string SaveModel(const std::string& name, uint64_t seed, const model::ModelConfig& config,
                      const action::NormalizationStats& stats, const std::string& tokenizer = "spm") {
  torch::manual_seed(seed);
  checkpoint::PolicyBundle b;
  b.model_version = name;
  b.config = config;
  b.model = model::MivlaModel(config);
  b.normalization = stats;
  b.tokenizer_model = tokenizer;
  b.metadata["step"] = std::to_string(seed);
  const std::string path = Dir() + "/" + name + ".mivla";
  EXPECT_TRUE(checkpoint::SaveModelCheckpoint(path, b).ok());
  return path;
}

TEST(CheckpointAverageTest, WeightsAreTheInputsMeanAndTheResultSaves) {
  const model::ModelConfig config = model::TinyConfig();
  const std::vector<std::string> paths = {SaveModel("a", 1, config, Stats(0, 1)),
                                          SaveModel("b", 2, config, Stats(0, 1)),
                                          SaveModel("c", 3, config, Stats(0, 1))};
  absl::StatusOr<checkpoint::PolicyBundle> avg = AverageCheckpoints(paths, "abc-avg");
  ASSERT_TRUE(avg.ok()) << avg.status();
  EXPECT_EQ(avg->model_version, "abc-avg");
  EXPECT_EQ(avg->metadata.at("averaged_from"), "a,b,c");
  EXPECT_EQ(avg->metadata.at("step"), "1");  // the first input's metadata
  EXPECT_EQ(avg->tokenizer_model, "spm");

  std::vector<checkpoint::PolicyBundle> in;
  for (const std::string& p : paths) in.push_back(*checkpoint::LoadModelCheckpoint(p));
  torch::NoGradGuard no_grad;
  int checked = 0;
  double largest_spread = 0;
  for (const auto& p : avg->model->named_parameters()) {
    at::Tensor mean = torch::zeros_like(p.value());
    for (auto& b : in) mean += b.model->named_parameters()[p.key()];
    mean /= 3.0;
    EXPECT_TRUE(torch::allclose(p.value(), mean, 1e-6, 1e-6)) << p.key();
    largest_spread =
        std::max(largest_spread, (in[0].model->named_parameters()[p.key()] - mean).abs().max().item<double>());
    ++checked;
  }
  EXPECT_GT(checked, 10);
  EXPECT_GT(largest_spread, 1e-3);  // the inputs differ, so the mean is not any one of them

  const std::string out = Dir() + "/avg.mivla";
  ASSERT_TRUE(checkpoint::SaveModelCheckpoint(out, *avg).ok());
  absl::StatusOr<checkpoint::PolicyBundle> back = checkpoint::LoadModelCheckpoint(out);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->model_version, "abc-avg");
  EXPECT_EQ(back->metadata.at("averaged_from"), "a,b,c");
}

TEST(CheckpointAverageTest, RefusesOtherModelsAndBadArgumentsNamingTheFile) {
  const model::ModelConfig config = model::TinyConfig();
  const std::string a = SaveModel("a2", 1, config, Stats(0, 1));
  model::ModelConfig deeper = config;
  deeper.dino.depth += 1;
  const std::string other_config = SaveModel("deeper", 2, deeper, Stats(0, 1));
  const std::string other_stats = SaveModel("stats", 3, config, Stats(0, 2));
  const std::string other_tokenizer = SaveModel("tok", 4, config, Stats(0, 1), "other-spm");

  for (const auto& [path, what] : std::vector<std::pair<std::string, std::string>>{
           {other_config, "model config"}, {other_stats, "normalisation statistics"}, {other_tokenizer, "tokenizer"}}) {
    absl::StatusOr<checkpoint::PolicyBundle> r = AverageCheckpoints({a, path}, "x");
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status();
  }
  const std::string absent = Dir() + "/absent.mivla";
  absl::StatusOr<checkpoint::PolicyBundle> missing = AverageCheckpoints({a, absent}, "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("absent.mivla"), std::string::npos) << missing.status();
  EXPECT_EQ(AverageCheckpoints({a}, "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AverageCheckpoints({a, a}, "").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mivla::trainer
