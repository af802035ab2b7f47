// File: hf_reference_test.cc
// Our encoders against HuggingFace `transformers` itself. hf_import_test.cc's export -> import round trips
// pass with a wrong name mapping or a computation that differs from HF's; these tests do not. The fixtures
// in core/model/testdata/hf_reference/ are tiny, randomly initialised Dinov2Model, SiglipVisionModel and
// T5EncoderModel instances: their state dicts under HF names (<name>.safetensors), inputs and HF's
// last_hidden_state (<name>_io.safetensors) and the configs (<name>.json), written by
// tools/hf_reference/make_hf_reference.py on a machine with transformers. Each test infers the config from
// the file's shapes and applies transformers' config (heads, epsilons: hf_config.h), as a real import
// does, imports by name, runs the same inputs and compares.
//
// MIVLA_HF_REFERENCE_DIR points the test at another folder (e.g. fresh output of the script before it is
// committed); a missing fixture fails the test with the file's name.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/model/hf_config.h"
#include "core/model/hf_import.h"
#include "core/util/read_file.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace mivla::model {
namespace {

using Json = nlohmann::json;

// Max |ours - transformers| allowed; float32 rounding differences are ~1e-6 on these sizes (each
// fixture's JSON records transformers' own fp32-vs-fp64 difference per case).
constexpr double kTolerance = 1e-4;

std::string FixtureDir() {
  const char* dir = std::getenv("MIVLA_HF_REFERENCE_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
  return std::string(MIVLA_SOURCE_DIR) + "/core/model/testdata/hf_reference";
}

struct Fixture {
  Json meta;
  SafetensorsFile weights;
  SafetensorsFile io;
};

absl::StatusOr<Fixture> LoadFixture(const std::string& name) {
  const std::string base = FixtureDir() + "/" + name;
  absl::StatusOr<std::string> text = ReadFile(base + ".json");
  if (!text.ok()) return text.status();
  Json meta = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object()) {
    return absl::InvalidArgumentError(base + ".json is not a JSON object");
  }
  absl::StatusOr<SafetensorsFile> weights = SafetensorsFile::Open(base + ".safetensors");
  if (!weights.ok()) return weights.status();
  absl::StatusOr<SafetensorsFile> io = SafetensorsFile::Open(base + "_io.safetensors");
  if (!io.ok()) return io.status();
  return Fixture{std::move(meta), *std::move(weights), *std::move(io)};
}

torch::Tensor Get(const SafetensorsFile& file, const std::string& name) {
  absl::StatusOr<torch::Tensor> t = file.Get(name);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : torch::Tensor();
}

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Compares and prints the difference (also when it passes, to watch the margin).
void ExpectClose(const torch::Tensor& ours, const torch::Tensor& theirs, const std::string& what, double hf_fp64_diff) {
  ASSERT_EQ(ours.sizes(), theirs.sizes()) << what;
  const double diff = MaxAbsDiff(ours, theirs);
  std::printf("%s: max |ours - transformers| = %.3g (transformers fp32 vs fp64: %.3g, max |value| %.3g)\n",
              what.c_str(), diff, hf_fp64_diff, theirs.abs().max().item<double>());
  EXPECT_LT(diff, kTolerance) << what;
}

// transformers' own fp32-vs-fp64 difference on a case (null or absent: -1).
double HfFp64Diff(const Json& c) {
  const auto it = c.find("fp32_vs_fp64_max_abs_diff");
  return it != c.end() && it->is_number() ? it->get<double>() : -1.0;
}

// The VitConfig the fixture states (its "vit" block is a model config's encoder block); InferVitConfig
// must reproduce the shape-derived fields.
VitConfig VitFromMeta(const Json& v) {
  const bool dino = v.at("style") == "dinov2";
  absl::StatusOr<ModelConfig> config = ConfigFromJson(Json{{dino ? "dino" : "siglip", v}}.dump());
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return VitConfig();
  return dino ? config->dino : config->siglip;
}

void CheckVit(const std::string& name, const std::string& style) {
  absl::StatusOr<Fixture> f = LoadFixture(name);
  ASSERT_TRUE(f.ok()) << f.status();
  const VitConfig expected = VitFromMeta(f->meta.at("vit"));
  ASSERT_EQ(expected.style, style);
  // The shapes cannot tell heads and eps: transformers' own config.json says them (hf_config.h), so the
  // defaults are wrong on purpose, as is the rest (style included), which must come from the file.
  // Only dinov2's input size (free) comes from the fixture's own block.
  VitConfig defaults;
  defaults.style = style == "dinov2" ? "siglip" : "dinov2";
  defaults.width = 48;
  defaults.patch_size = 7;
  defaults.depth = 5;
  defaults.mlp_dim = 40;
  defaults.position_grid = 9;
  defaults.heads = 1;
  defaults.eps = 1e-3;
  // DINOv2's input size is free (its position grid is interpolated); SigLIP's comes from the file.
  defaults.image_size = style == "dinov2" ? expected.image_size : expected.image_size + expected.patch_size;
  absl::StatusOr<VitConfig> config = InferVitConfig(f->weights, defaults);
  ASSERT_TRUE(config.ok()) << config.status();
  absl::Status applied = ApplyHfVitConfig(f->meta.at("hf_config"), name, &*config);
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_EQ(config->heads, expected.heads);
  EXPECT_EQ(config->eps, expected.eps);
  EXPECT_EQ(config->style, expected.style);
  EXPECT_EQ(config->width, expected.width);
  EXPECT_EQ(config->patch_size, expected.patch_size);
  EXPECT_EQ(config->depth, expected.depth);
  EXPECT_EQ(config->mlp_dim, expected.mlp_dim);
  EXPECT_EQ(config->image_size, expected.image_size);
  EXPECT_EQ(config->position_grid, expected.position_grid);

  VitEncoder vit(*config);
  absl::Status imported = ImportHfVit(f->weights, *vit);
  ASSERT_TRUE(imported.ok()) << imported;
  vit->eval();
  torch::NoGradGuard no_grad;
  const Json& cases = f->meta.at("cases");
  ASSERT_FALSE(cases.empty());
  for (const Json& c : cases) {
    const std::string input = c.at("input").get<std::string>();
    const std::string output = c.at("output").get<std::string>();
    torch::Tensor pixels = Get(f->io, input);
    torch::Tensor reference = Get(f->io, output);
    ASSERT_TRUE(pixels.defined() && reference.defined());
    ExpectClose(vit->forward(pixels), reference,
                absl::StrCat(f->meta.at("hf_class").get<std::string>(), " ", output, " for ", input, " ",
                             absl::StrJoin(pixels.sizes(), "x")),
                HfFp64Diff(c));
  }
}

TEST(HfReferenceTest, Dinov2ModelLastHiddenState) { CheckVit("dinov2", "dinov2"); }

TEST(HfReferenceTest, SiglipVisionModelLastHiddenState) { CheckVit("siglip", "siglip"); }

TEST(HfReferenceTest, T5EncoderModelLastHiddenState) {
  absl::StatusOr<Fixture> f = LoadFixture("t5");
  ASSERT_TRUE(f.ok()) << f.status();
  const Json& t = f->meta.at("t5");
  // max_distance and eps are not in the shapes: transformers' config.json says them (hf_config.h);
  // max_tokens (our truncation) is the fixture's.
  T5Config defaults;
  defaults.max_distance = 128;  // wrong on purpose, as are eps and num_buckets (from the bias table)
  defaults.eps = 1e-3;
  defaults.max_tokens = t.at("max_tokens").get<int>();
  defaults.num_buckets = 8;
  absl::StatusOr<T5Config> config = InferT5Config(f->weights, defaults);
  ASSERT_TRUE(config.ok()) << config.status();
  absl::Status applied = ApplyHfT5Config(f->meta.at("hf_config"), "t5", &*config);
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_EQ(config->max_distance, t.at("max_distance").get<int>());
  EXPECT_EQ(config->eps, t.at("eps").get<double>());
  EXPECT_EQ(config->vocab_size, t.at("vocab_size").get<int>());
  EXPECT_EQ(config->d_model, t.at("d_model").get<int>());
  EXPECT_EQ(config->d_kv, t.at("d_kv").get<int>());
  EXPECT_EQ(config->heads, t.at("heads").get<int>());
  EXPECT_EQ(config->d_ff, t.at("d_ff").get<int>());
  EXPECT_EQ(config->layers, t.at("layers").get<int>());
  EXPECT_EQ(config->num_buckets, t.at("num_buckets").get<int>());

  T5Encoder t5(*config);
  absl::Status imported = ImportHfT5(f->weights, *t5);
  ASSERT_TRUE(imported.ok()) << imported;
  t5->eval();
  torch::NoGradGuard no_grad;
  const Json& cases = f->meta.at("cases");
  ASSERT_FALSE(cases.empty());
  for (const Json& c : cases) {
    torch::Tensor ids = Get(f->io, c.at("input_ids").get<std::string>());
    torch::Tensor mask = Get(f->io, c.at("attention_mask").get<std::string>());
    const std::string output = c.at("output").get<std::string>();
    torch::Tensor reference = Get(f->io, output);
    ASSERT_TRUE(ids.defined() && mask.defined() && reference.defined());
    torch::Tensor ours = t5->forward(ids, mask);
    ASSERT_EQ(ours.sizes(), reference.sizes());
    // Token positions only: outputs at padding positions are meaningless (t5_encoder.h).
    torch::Tensor tokens = mask.to(torch::kBool);
    ExpectClose(ours.index({tokens}), reference.index({tokens}),
                absl::StrCat("T5EncoderModel ", output, " at ", tokens.sum().item<int64_t>(), " token positions"),
                HfFp64Diff(c));
    if (!tokens.all().item<bool>()) {
      std::printf("  (padding positions, not compared: max |ours - transformers| = %.3g)\n",
                  MaxAbsDiff(ours.index({tokens.logical_not()}), reference.index({tokens.logical_not()})));
    }
  }
}

}  // namespace
}  // namespace mivla::model
