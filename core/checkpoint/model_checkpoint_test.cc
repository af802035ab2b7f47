#include "core/checkpoint/model_checkpoint.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/action/action_space.h"
#include "core/checkpoint/checkpoint_file.h"
#include "core/model/flow_matching.h"
#include "core/model/safetensors.h"
#include "core/model/synthetic_inputs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::checkpoint {
namespace {

using ::testing::HasSubstr;
using action::Embodiment;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  return names;
}

action::NormalizationStats SomeStats() {
  action::NormalizationStatsBuilder builder;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.3f, 2.0f);
  for (Embodiment e : {Embodiment::kHuman, Embodiment::kPiper}) {
    for (int i = 0; i < 20; ++i) {
      std::vector<float> v(action::kActionDim);
      for (float& x : v) x = normal(rng);
      builder.Add(e, v.data(), action::EmbodimentMask(e));
    }
  }
  return builder.Build();
}

class ModelCheckpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    torch::manual_seed(11);
    model::MivlaModel m(model::TinyConfig());
    torch::NoGradGuard no_grad;
    // Random init plus small noise, so that no tensor is trivially zero or one.
    for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * 0.05);
    bundle_ = new PolicyBundle();
    bundle_->model_version = "tiny-000123";
    bundle_->config = m->config();
    bundle_->normalization = SomeStats();
    bundle_->tokenizer_model = std::string("\x0a\x00\xff spm bytes \x00", 16);
    bundle_->metadata = {{"step", "123"}, {"dataset", "synthetic"}, {"created_at", "2024-01-01T00:00:00Z"}};
    bundle_->model = m;
  }
  static void TearDownTestSuite() { delete bundle_; }

  void SetUp() override {
    char tmpl[] = "/tmp/mivla_model_ckpt_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/policy.mivla";
  }
  void TearDown() override {
    for (const std::string& n : ListDir(dir_)) std::remove((dir_ + "/" + n).c_str());
    rmdir(dir_.c_str());
  }

  /// The container contents SaveModelCheckpoint would write, with `weights` as the weights section.
  static CheckpointContents HandMade(const model::NamedTensors& weights) {
    CheckpointContents c;
    c.model_version = bundle_->model_version;
    c.sections[kConfigSection] = model::ConfigToJson(bundle_->config);
    c.sections[kNormalizationSection] = bundle_->normalization.ToJson();
    c.sections[kTokenizerSection] = bundle_->tokenizer_model;
    auto bytes = model::SerializeSafetensors(weights);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    c.sections[kWeightsSection] = bytes.ok() ? *bytes : "";
    return c;
  }

  static model::NamedTensors ModelWeights() {
    model::NamedTensors out;
    for (const auto& item : bundle_->model->named_parameters()) out.emplace_back(item.key(), item.value());
    return out;
  }

  /// Flips one bit in the middle of the named section of the saved file.
  void FlipBitInSection(const std::string& section) {
    auto header = ReadCheckpointHeader(path_);
    ASSERT_TRUE(header.ok()) << header.status();
    const SectionInfo* info = header->FindSection(section);
    ASSERT_NE(info, nullptr);
    ASSERT_GT(info->size, 0u);
    std::string bytes = ReadAll(path_);
    bytes[info->offset + info->size / 2] ^= 0x10;
    WriteAll(path_, bytes);
  }

  static torch::Tensor Sample(model::MivlaModelImpl& m) {
    torch::NoGradGuard no_grad;
    const std::vector<Embodiment> kinds = {Embodiment::kHuman, Embodiment::kPiper, Embodiment::kLocoman};
    model::ModelInputs in = model::SyntheticInputs(m.config(), kinds, 3);
    torch::Tensor noise = model::SampleNoise(kinds.size(), m.config().decoder.action_horizon,
                                             action::kActionDim, 42);
    return model::EulerSample(m, m.PrepareDecoding(m.Encode(in)), noise, m.config().decoder.sampling_steps);
  }

  static PolicyBundle* bundle_;
  std::string dir_, path_;
};

PolicyBundle* ModelCheckpointTest::bundle_ = nullptr;

TEST_F(ModelCheckpointTest, SaveThenLoadIsBitIdentical) {
  ASSERT_TRUE(SaveModelCheckpoint(path_, *bundle_).ok());
  auto loaded = LoadModelCheckpoint(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->model_version, bundle_->model_version);
  EXPECT_TRUE(loaded->config == bundle_->config);
  EXPECT_TRUE(loaded->normalization == bundle_->normalization);
  EXPECT_EQ(loaded->tokenizer_model, bundle_->tokenizer_model);
  EXPECT_EQ(loaded->metadata, bundle_->metadata);
  ASSERT_FALSE(loaded->model.is_empty());
  EXPECT_FALSE(loaded->model->is_training());

  auto original = bundle_->model->named_parameters();
  auto restored = loaded->model->named_parameters();
  ASSERT_EQ(original.size(), restored.size());
  for (const auto& item : original) {
    ASSERT_TRUE(restored.contains(item.key())) << item.key();
    EXPECT_TRUE(torch::equal(item.value(), restored[item.key()])) << item.key();
  }
  bundle_->model->eval();
  torch::Tensor want = Sample(*bundle_->model);
  torch::Tensor got = Sample(*loaded->model);
  EXPECT_GT(want.abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(want, got));

  auto version = PeekModelVersion(path_);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, "tiny-000123");
}

TEST_F(ModelCheckpointTest, EmptyTokenizerRoundTrips) {
  PolicyBundle b = *bundle_;
  b.tokenizer_model.clear();
  b.metadata.clear();
  ASSERT_TRUE(SaveModelCheckpoint(path_, b).ok());
  auto loaded = LoadModelCheckpoint(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->tokenizer_model.empty());
  EXPECT_TRUE(loaded->metadata.empty());
}

TEST_F(ModelCheckpointTest, SaveIsAtomicAndOverwrites) {
  ASSERT_TRUE(SaveModelCheckpoint(path_, *bundle_).ok());
  EXPECT_THAT(ListDir(dir_), ::testing::ElementsAre("policy.mivla"));
  PolicyBundle next = *bundle_;
  next.model_version = "tiny-000200";
  next.metadata["step"] = "200";
  ASSERT_TRUE(SaveModelCheckpoint(path_, next).ok());
  EXPECT_THAT(ListDir(dir_), ::testing::ElementsAre("policy.mivla"));
  auto loaded = LoadModelCheckpoint(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->model_version, "tiny-000200");
  EXPECT_EQ(loaded->metadata.at("step"), "200");
}

TEST_F(ModelCheckpointTest, SaveRejectsBadBundles) {
  PolicyBundle no_model = *bundle_;
  no_model.model = model::MivlaModel(nullptr);
  EXPECT_EQ(SaveModelCheckpoint(path_, no_model).code(), absl::StatusCode::kInvalidArgument);
  PolicyBundle no_version = *bundle_;
  no_version.model_version.clear();
  EXPECT_EQ(SaveModelCheckpoint(path_, no_version).code(), absl::StatusCode::kInvalidArgument);
  PolicyBundle other_config = *bundle_;
  other_config.config.decoder.depth = 2;
  absl::Status s = SaveModelCheckpoint(path_, other_config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("config"));
  EXPECT_TRUE(ListDir(dir_).empty());
}

TEST_F(ModelCheckpointTest, MissingAndForeignFilesAreRejected) {
  EXPECT_EQ(LoadModelCheckpoint(path_).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(PeekModelVersion(path_).status().code(), absl::StatusCode::kNotFound);
  WriteAll(path_, std::string(4096, 'x'));
  auto loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("not a MiVLA checkpoint"));
}

TEST_F(ModelCheckpointTest, TruncatedFileIsRejected) {
  ASSERT_TRUE(SaveModelCheckpoint(path_, *bundle_).ok());
  const std::string bytes = ReadAll(path_);
  for (size_t keep : {bytes.size() - 1, bytes.size() / 2, size_t{40}}) {
    WriteAll(path_, bytes.substr(0, keep));
    auto loaded = LoadModelCheckpoint(path_);
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << keep;
    EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("truncated")) << keep;
    EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(path_)) << keep;
  }
}

TEST_F(ModelCheckpointTest, BitFlipInWeightsIsRejected) {
  ASSERT_TRUE(SaveModelCheckpoint(path_, *bundle_).ok());
  FlipBitInSection(kWeightsSection);
  auto loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("corrupt"));
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("weights.safetensors"));
  // The header is intact: a directory watcher still sees the version; loading is what rejects it.
  EXPECT_TRUE(PeekModelVersion(path_).ok());
}

TEST_F(ModelCheckpointTest, BitFlipInConfigIsRejected) {
  ASSERT_TRUE(SaveModelCheckpoint(path_, *bundle_).ok());
  FlipBitInSection(kConfigSection);
  auto loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("corrupt"));
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("config.json"));
}

TEST_F(ModelCheckpointTest, MissingTensorIsRejectedByName) {
  model::NamedTensors weights = ModelWeights();
  const std::string dropped = weights[weights.size() / 2].first;
  weights.erase(weights.begin() + weights.size() / 2);
  ASSERT_TRUE(WriteCheckpointFile(path_, HandMade(weights)).ok());
  auto loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("incompatible"));
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("'" + dropped + "'"));
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(path_));
}

TEST_F(ModelCheckpointTest, MisshapedTensorIsRejectedWithBothShapes) {
  model::NamedTensors weights = ModelWeights();
  auto it = std::find_if(weights.begin(), weights.end(),
                         [](const auto& w) { return w.first == "view_embedding"; });
  ASSERT_NE(it, weights.end());
  const int64_t w = bundle_->config.decoder.width;
  it->second = torch::zeros({2, w});
  ASSERT_TRUE(WriteCheckpointFile(path_, HandMade(weights)).ok());
  auto loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string msg(loaded.status().message());
  EXPECT_THAT(msg, HasSubstr("'view_embedding'"));
  EXPECT_THAT(msg, HasSubstr(absl::StrCat("[2, ", w, "]")));
  EXPECT_THAT(msg, HasSubstr(absl::StrCat("[", bundle_->config.max_views, ", ", w, "]")));
}

TEST_F(ModelCheckpointTest, UnexpectedTensorIsRejectedByName) {
  model::NamedTensors weights = ModelWeights();
  weights.emplace_back("decoder.blocks.99.extra", torch::zeros({3}));
  ASSERT_TRUE(WriteCheckpointFile(path_, HandMade(weights)).ok());
  auto loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("'decoder.blocks.99.extra'"));
}

TEST_F(ModelCheckpointTest, IntegerWeightsAreRejected) {
  model::NamedTensors weights = ModelWeights();
  weights[0].second = torch::zeros(weights[0].second.sizes(), torch::kInt32);
  ASSERT_TRUE(WriteCheckpointFile(path_, HandMade(weights)).ok());
  auto loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("'" + weights[0].first + "'"));
}

TEST_F(ModelCheckpointTest, MissingSectionIsRejectedByName) {
  CheckpointContents c = HandMade(ModelWeights());
  c.sections.erase(kNormalizationSection);
  ASSERT_TRUE(WriteCheckpointFile(path_, c).ok());
  auto loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("'normalization.json'"));
}

TEST_F(ModelCheckpointTest, InvalidConfigJsonIsRejected) {
  CheckpointContents c = HandMade(ModelWeights());
  c.sections[kConfigSection] = "{\"name\": \"tiny\", \"decoder\": {";
  ASSERT_TRUE(WriteCheckpointFile(path_, c).ok());
  auto loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("config.json"));

  model::ModelConfig bad = bundle_->config;
  bad.decoder.heads = 3;  // width 256 is not divisible by 3: valid JSON, invalid config
  c.sections[kConfigSection] = model::ConfigToJson(bad);
  ASSERT_TRUE(WriteCheckpointFile(path_, c).ok());
  loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("decoder.width"));
}

TEST_F(ModelCheckpointTest, InvalidNormalizationAndWeightsBytesAreRejected) {
  CheckpointContents c = HandMade(ModelWeights());
  c.sections[kNormalizationSection] = "[1, 2";
  ASSERT_TRUE(WriteCheckpointFile(path_, c).ok());
  auto loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("normalization.json"));

  c = HandMade(ModelWeights());
  c.sections[kWeightsSection] = std::string("\xff\xff\xff\xff\xff\xff\xff\x7f garbage", 16);
  ASSERT_TRUE(WriteCheckpointFile(path_, c).ok());
  loaded = LoadModelCheckpoint(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("weights.safetensors"));
}

TEST_F(ModelCheckpointTest, UnavailableDeviceIsAnErrorNotACrash) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "CUDA is available";
  ASSERT_TRUE(SaveModelCheckpoint(path_, *bundle_).ok());
  auto loaded = LoadModelCheckpoint(path_, c10::Device(c10::kCUDA, 0));
  EXPECT_FALSE(loaded.ok());
}

// Compact weights: F16 / BF16 storage loads back into the F32 model. Tolerances (stated, and what
// this test asserts): each stored weight within its dtype's rounding (F16: relative 2^-11 plus
// 2^-24 absolute for subnormals; BF16: relative 2^-8), buffers exact, and the sampled action chunk
// (normalised units, values of order 1) within 2e-2 (F16) / 1e-1 (BF16) of the F32 model's.
TEST_F(ModelCheckpointTest, CompactWeightsRoundTripWithinRounding) {
  ASSERT_TRUE(SaveModelCheckpoint(path_, *bundle_).ok());
  const std::string f32_bytes = ReadAll(path_);
  bundle_->model->eval();
  const torch::Tensor want = Sample(*bundle_->model);
  struct Case {
    WeightsDtype dtype;
    const char* name;
    double rel, abs, sample_tol;
  };
  for (const Case& c : {Case{WeightsDtype::kF16, "F16", std::ldexp(1.0, -11), std::ldexp(1.0, -24), 2e-2},
                        Case{WeightsDtype::kBF16, "BF16", std::ldexp(1.0, -8), 1e-30, 1e-1}}) {
    SCOPED_TRACE(c.name);
    const std::string path = dir_ + "/compact.mivla";
    SaveOptions options;
    options.weights_dtype = c.dtype;
    ASSERT_TRUE(SaveModelCheckpoint(path, *bundle_, options).ok());
    const double ratio = static_cast<double>(ReadAll(path).size()) / static_cast<double>(f32_bytes.size());
    EXPECT_GT(ratio, 0.45);
    EXPECT_LT(ratio, 0.55);

    auto contents = ReadCheckpointFile(path);
    ASSERT_TRUE(contents.ok()) << contents.status();
    auto file = model::SafetensorsFile::Parse(contents->sections.at(kWeightsSection));
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(file->metadata().at("weights_dtype"), c.name);
    for (const auto& item : bundle_->model->named_parameters()) {
      if (item.value().is_floating_point()) {
        EXPECT_EQ(file->Find(item.key())->dtype, c.name) << item.key();
      }
    }

    auto loaded = LoadModelCheckpoint(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->model_version, bundle_->model_version);
    EXPECT_EQ(loaded->metadata, bundle_->metadata);
    auto restored = loaded->model->named_parameters();
    for (const auto& item : bundle_->model->named_parameters()) {
      const torch::Tensor a = item.value().detach(), b = restored[item.key()].detach();
      ASSERT_EQ(b.scalar_type(), torch::kFloat32) << item.key();
      const torch::Tensor bound = a.abs() * c.rel + c.abs;
      EXPECT_TRUE(((a - b).abs() <= bound).all().item<bool>()) << item.key();
    }
    auto buffers = loaded->model->named_buffers();
    for (const auto& item : bundle_->model->named_buffers()) {
      EXPECT_TRUE(torch::equal(item.value(), buffers[item.key()])) << item.key();
    }
    const torch::Tensor got = Sample(*loaded->model);
    const double diff = (got - want).abs().max().item<double>();
    std::printf("%s: file %.3f of F32, max |sample - F32 sample| = %.3g (max |sample| %.3g)\n", c.name, ratio,
                diff, want.abs().max().item<double>());
    EXPECT_LT(diff, c.sample_tol);
    EXPECT_FALSE(torch::equal(got, want));  // the weights were really rounded
  }
}

TEST_F(ModelCheckpointTest, DefaultF32WritesNoDtypeKeyAndF16OverflowIsNamed) {
  ASSERT_TRUE(SaveModelCheckpoint(path_, *bundle_).ok());
  auto contents = ReadCheckpointFile(path_);
  ASSERT_TRUE(contents.ok()) << contents.status();
  auto file = model::SafetensorsFile::Parse(contents->sections.at(kWeightsSection));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata().count("weights_dtype"), 0u);

  torch::manual_seed(3);
  model::MivlaModel big(model::TinyConfig());
  const std::string first = big->named_parameters().begin()->key();
  {
    torch::NoGradGuard no_grad;
    big->named_parameters()[first].view(-1)[0] = 1e6f;
  }
  PolicyBundle b = *bundle_;
  b.model = big;
  SaveOptions f16;
  f16.weights_dtype = WeightsDtype::kF16;
  absl::Status s = SaveModelCheckpoint(path_, b, f16);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr(first));
  EXPECT_THAT(std::string(s.message()), HasSubstr("BF16"));
  SaveOptions bf16;
  bf16.weights_dtype = WeightsDtype::kBF16;
  EXPECT_TRUE(SaveModelCheckpoint(path_, b, bf16).ok());
}

TEST(WeightsDtypeTest, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(*ParseWeightsDtype("f16"), WeightsDtype::kF16);
  EXPECT_EQ(*ParseWeightsDtype("FP16"), WeightsDtype::kF16);
  EXPECT_EQ(*ParseWeightsDtype("bf16"), WeightsDtype::kBF16);
  EXPECT_EQ(*ParseWeightsDtype("f32"), WeightsDtype::kF32);
  auto bad = ParseWeightsDtype("int8");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("int8"));
  EXPECT_EQ(WeightsDtypeName(WeightsDtype::kBF16), "BF16");
}

}  // namespace
}  // namespace mivla::checkpoint
