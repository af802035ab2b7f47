// The LibTorch PolicyRuntime on the tiny configuration: encode/decode shapes and masks, seeds, batch
// independence, handles of other runtimes, per-item input errors, staging reuse, de-normalisation with
// the version's statistics, and the loader (random init, checkpoint files, bad files and flags).
#include "server/runtime/torch_policy_runtime.h"

#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/runtime/torch_condition.h"
#include "server/runtime/torch_runtime_loader.h"

namespace mivla::server {
namespace {

using action::Embodiment;
using ::testing::HasSubstr;

std::string Spm() {
  std::ifstream in(tokenizer::kTinyTokenizerModelPath, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

checkpoint::PolicyBundle TinyBundle(const std::string& version, uint64_t seed) {
  checkpoint::PolicyBundle b;
  b.model_version = version;
  b.config = *model::ConfigByName("tiny");
  torch::manual_seed(seed);
  b.model = model::MivlaModel(b.config);
  b.tokenizer_model = Spm();
  return b;
}

std::unique_ptr<TorchPolicyRuntime> Runtime(checkpoint::PolicyBundle b) {
  auto r = TorchPolicyRuntime::Create(std::move(b), {});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : nullptr;
}

RuntimeObservation Obs(Embodiment e, int side, int views, uint64_t seed, bool with_state = true) {
  RuntimeObservation o;
  o.embodiment = e;
  o.instruction = seed % 2 ? "press the bell" : "open the drawer";
  for (int v = 0; v < views; ++v) {
    RuntimeImage im;
    im.width = im.height = side;
    im.rgb.resize(static_cast<size_t>(side) * side * 3);
    for (size_t k = 0; k < im.rgb.size(); ++k) im.rgb[k] = static_cast<uint8_t>((k * (seed + 3) + v * 17) % 256);
    o.images.push_back(std::move(im));
  }
  if (with_state) {
    o.state_mask = action::EmbodimentMask(e);
    for (int d = 0; d < action::kActionDim; ++d) o.state[d] = o.state_mask.test(d) ? 0.01f * ((d + seed) % 7) : 0.0f;
  }
  return o;
}

ConditionPtr EncodeOne(const TorchPolicyRuntime& r, const RuntimeObservation& o) {
  auto out = r.Encode({&o});
  EXPECT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].ok()) << out[0].status();
  return out[0].ok() ? *out[0] : nullptr;
}

TEST(TorchPolicyRuntimeTest, InfoAndChunksOfTheTinyModel) {
  auto r = Runtime(TinyBundle("v1", 1));
  ASSERT_NE(r, nullptr);
  const RuntimeInfo& info = r->info();
  EXPECT_EQ(info.version, "v1");
  EXPECT_EQ(info.config_name, "tiny");
  EXPECT_EQ(info.action_horizon, 16);
  EXPECT_EQ(info.device, "cpu/fp32");
  EXPECT_EQ(info.embodiments.size(), action::kAllEmbodiments.size());
  EXPECT_THAT(info.config_json, HasSubstr("\"decoder\""));
  const int side = info.image_size;
  RuntimeObservation a = Obs(Embodiment::kPiper, side, 2, 1), b = Obs(Embodiment::kAlohaAgilex, side, 3, 2);
  auto conds = r->Encode({&a, &b});
  ASSERT_EQ(conds.size(), 2u);
  ASSERT_TRUE(conds[0].ok() && conds[1].ok());
  EXPECT_EQ((*conds[1])->embodiment(), Embodiment::kAlohaAgilex);
  EXPECT_EQ((*conds[0])->runtime_instance(), r->instance());
  auto chunks = r->Decode({{*conds[0], 7, {}}, {*conds[1], 8, {}}});
  ASSERT_EQ(chunks.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(chunks[i].ok()) << chunks[i].status();
    ASSERT_EQ(chunks[i]->horizon, 16);
    ASSERT_EQ(chunks[i]->values.size(), 16u * action::kActionDim);
    const action::ActionMask mask = action::EmbodimentMask(i == 0 ? Embodiment::kPiper : Embodiment::kAlohaAgilex);
    for (int d = 0; d < action::kActionDim; ++d) {
      const float v = chunks[i]->values[15 * action::kActionDim + d];
      EXPECT_TRUE(std::isfinite(v));
      if (!mask.test(d)) {
        EXPECT_EQ(v, 0.0f) << "slot " << d << " is outside the embodiment's mask";
      }
    }
  }
  EXPECT_TRUE(r->Warm(2).ok());
}

TEST(TorchPolicyRuntimeTest, SeedMakesChunksDeterministicAndIndependentOfBatchMates) {
  auto r = Runtime(TinyBundle("v1", 1));
  const int side = r->info().image_size;
  RuntimeObservation a = Obs(Embodiment::kPiper, side, 2, 1), b = Obs(Embodiment::kLocoman, side, 2, 2);
  ConditionPtr ca = EncodeOne(*r, a), cb = EncodeOne(*r, b);
  auto alone = r->Decode({{ca, 99, {}}});
  auto again = r->Decode({{ca, 99, {}}});
  auto batched = r->Decode({{cb, 5, {}}, {ca, 99, {}}});
  auto other = r->Decode({{ca, 100, {}}});
  ASSERT_TRUE(alone[0].ok() && again[0].ok() && batched[1].ok() && other[0].ok());
  double diff = 0;
  for (size_t k = 0; k < alone[0]->values.size(); ++k) {
    EXPECT_EQ(alone[0]->values[k], again[0]->values[k]);
    EXPECT_NEAR(alone[0]->values[k], batched[1]->values[k], 1e-4);
    diff += std::abs(alone[0]->values[k] - other[0]->values[k]);
  }
  EXPECT_GT(diff, 1e-3) << "another seed gives another chunk";
}

TEST(TorchPolicyRuntimeTest, ExecutedPrefixGuidesItsItemOnly) {
  auto r = Runtime(TinyBundle("v1", 1));
  const int side = r->info().image_size;
  RuntimeObservation a = Obs(Embodiment::kPiper, side, 2, 1), b = Obs(Embodiment::kLocoman, side, 2, 2);
  ConditionPtr ca = EncodeOne(*r, a), cb = EncodeOne(*r, b);
  auto previous = r->Decode({{ca, 7, {}}});
  auto plain_b = r->Decode({{cb, 5, {}}});
  auto plain_a = r->Decode({{ca, 99, {}}});
  ASSERT_TRUE(previous[0].ok() && plain_b[0].ok() && plain_a[0].ok());
  // The robot executed 4 steps of `previous`; its next 10 are the prefix, 3 of them frozen.
  constexpr int kD = action::kActionDim;
  DecodeItem guided{ca, 99, std::vector<float>(previous[0]->values.begin() + 4 * kD,
                                               previous[0]->values.begin() + 14 * kD), 3};
  auto out = r->Decode({{cb, 5, {}}, guided});
  ASSERT_TRUE(out[0].ok() && out[1].ok());
  EXPECT_EQ(out[0]->values, plain_b[0]->values) << "a plain batch-mate is sampled as alone";
  const action::ActionMask mask = action::EmbodimentMask(Embodiment::kPiper);
  double err = 0, plain_err = 0;
  for (int h = 0; h < 3; ++h) {
    for (int d = 0; d < kD; ++d) {
      if (!mask.test(d)) continue;
      const float want = guided.executed_prefix[h * kD + d];
      err = std::max(err, static_cast<double>(std::abs(out[1]->values[h * kD + d] - want)));
      plain_err = std::max(plain_err, static_cast<double>(std::abs(plain_a[0]->values[h * kD + d] - want)));
    }
  }
  EXPECT_LT(err, 0.12) << "the frozen steps follow the prefix (tolerance as guided_sampling_test)";
  EXPECT_GT(plain_err, 0.3);
  // A prefix that is not whole steps, or freezes more steps than it has, fails alone.
  auto bad = r->Decode({{ca, 1, std::vector<float>(kD + 3, 0.0f), 0}, {ca, 1, std::vector<float>(2 * kD, 0.0f), 3},
                        {cb, 5, {}}});
  EXPECT_EQ(bad[0].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad[0].status().message(), HasSubstr("executed_prefix"));
  EXPECT_EQ(bad[1].status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(bad[2].ok());
  EXPECT_EQ(bad[2]->values, plain_b[0]->values);
}

TEST(TorchPolicyRuntimeTest, BadItemsFailAloneAndForeignHandlesAreRefused) {
  auto r = Runtime(TinyBundle("v1", 1));
  auto other = Runtime(TinyBundle("v2", 2));
  const int side = r->info().image_size;
  RuntimeObservation good = Obs(Embodiment::kArx5, side, 2, 1);
  RuntimeObservation too_many = Obs(Embodiment::kArx5, side, 4, 1);
  RuntimeObservation wrong_size = Obs(Embodiment::kArx5, side * 2, 2, 1);
  auto conds = r->Encode({&too_many, &good, &wrong_size});
  ASSERT_EQ(conds.size(), 3u);
  EXPECT_EQ(conds[0].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(conds[0].status().message(), HasSubstr("images: 4 views; model version v1 takes at most 3"));
  EXPECT_TRUE(conds[1].ok());
  EXPECT_EQ(conds[2].status().code(), absl::StatusCode::kFailedPrecondition);
  auto foreign = other->Decode({{*conds[1], 1, {}}});
  EXPECT_EQ(foreign[0].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(foreign[0].status().message(), HasSubstr("not encoded by model version v2"));
}

TEST(TorchPolicyRuntimeTest, StagingBuffersAreReusedInSteadyState) {
  auto r = Runtime(TinyBundle("v1", 1));
  ASSERT_TRUE(r->Warm(4).ok());
  const int64_t after_warm = r->staging_allocations();
  EXPECT_GE(after_warm, 1);
  const int side = r->info().image_size;
  for (int i = 0; i < 3; ++i) {
    RuntimeObservation a = Obs(Embodiment::kPiper, side, 2, i), b = Obs(Embodiment::kHuman, side, 1, i);
    auto conds = r->Encode({&a, &b});
    ASSERT_TRUE(conds[0].ok() && conds[1].ok());
    ASSERT_TRUE(r->Decode({{*conds[0], 1, {}}, {*conds[1], 2, {}}})[0].ok());
  }
  EXPECT_EQ(r->staging_allocations(), after_warm);
  EXPECT_GT(r->instruction_cache().hits(), 0);
}

// The text tokens a condition holds: each row its own instruction's, whether the instruction was encoded in
// this batch (once per distinct text) or came from the cache, also in a batch that mixes the two.
TEST(TorchPolicyRuntimeTest, EachRowGetsItsInstructionFromTheBatchOrTheCache) {
  auto r = Runtime(TinyBundle("v1", 1));
  auto reference = Runtime(TinyBundle("v1", 1));  // the same weights, encoding one observation at a time
  const int side = r->info().image_size;
  const auto text = [](const ConditionPtr& c) { return dynamic_cast<const TorchCondition&>(*c).tokens().text; };
  // Seeds 1 and 3: "press the bell"; 2: "open the drawer".
  RuntimeObservation a = Obs(Embodiment::kPiper, side, 2, 1), b = Obs(Embodiment::kArx5, side, 2, 2),
                     c = Obs(Embodiment::kHuman, side, 1, 3);
  auto first = r->Encode({&a, &b, &c});
  ASSERT_TRUE(first[0].ok() && first[1].ok() && first[2].ok());
  EXPECT_EQ(r->instruction_cache().size(), 2u) << "two distinct instructions, encoded once each";
  const torch::Tensor bell = text(EncodeOne(*reference, a)), drawer = text(EncodeOne(*reference, b));
  ASSERT_FALSE(torch::allclose(bell, drawer));
  EXPECT_TRUE(torch::allclose(text(*first[0]), bell, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(text(*first[1]), drawer, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(text(*first[2]), bell, 1e-5, 1e-5));
  const int64_t hits = r->instruction_cache().hits();
  auto second = r->Encode({&b, &a});  // both from the cache now
  ASSERT_TRUE(second[0].ok() && second[1].ok());
  EXPECT_EQ(r->instruction_cache().hits(), hits + 2);
  EXPECT_TRUE(torch::allclose(text(*second[0]), drawer, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(text(*second[1]), bell, 1e-5, 1e-5));
  // A new instruction between two cached ones: the new one staged in the middle row.
  RuntimeObservation d = Obs(Embodiment::kPiper, side, 2, 5);
  d.instruction = "lift the pot";
  const torch::Tensor pot = text(EncodeOne(*reference, d));
  auto mixed = r->Encode({&a, &d, &b});
  ASSERT_TRUE(mixed[0].ok() && mixed[1].ok() && mixed[2].ok());
  EXPECT_EQ(r->instruction_cache().size(), 3u);
  EXPECT_EQ(r->instruction_cache().hits(), hits + 4);
  EXPECT_TRUE(torch::allclose(text(*mixed[0]), bell, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(text(*mixed[1]), pot, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(text(*mixed[2]), drawer, 1e-5, 1e-5));
}

TEST(TorchPolicyRuntimeTest, ChunksAreDenormalisedWithTheVersionsStatistics) {
  checkpoint::PolicyBundle plain = TinyBundle("plain", 3);
  checkpoint::PolicyBundle scaled = TinyBundle("scaled", 3);  // the same weights
  action::NormalizationStatsBuilder stats;
  std::vector<float> lo(action::kActionDim, 0.0f), hi(action::kActionDim, 0.0f);
  const int slot = action::kJointsRight.begin;
  lo[slot] = -2.0f;
  hi[slot] = 2.0f;
  const action::ActionMask mask = action::EmbodimentMask(Embodiment::kArx5);
  stats.Add(Embodiment::kArx5, lo.data(), mask);
  stats.Add(Embodiment::kArx5, hi.data(), mask);
  scaled.normalization = stats.Build();
  auto a = Runtime(std::move(plain));
  auto b = Runtime(std::move(scaled));
  // No proprioception, so both encode the same inputs; only the output statistics differ.
  RuntimeObservation o = Obs(Embodiment::kArx5, a->info().image_size, 2, 1, /*with_state=*/false);
  auto ca = a->Decode({{EncodeOne(*a, o), 4, {}}});
  auto cb = b->Decode({{EncodeOne(*b, o), 4, {}}});
  ASSERT_TRUE(ca[0].ok() && cb[0].ok());
  for (int h = 0; h < 16; ++h) {
    const size_t k = static_cast<size_t>(h) * action::kActionDim + slot;
    EXPECT_NEAR(cb[0]->values[k], 2.0f * ca[0]->values[k], 1e-4) << "min-max [-2, 2]: raw = 2 x normalised";
  }
}

TEST(TorchRuntimeLoaderTest, RandomInitCheckpointFilesAndBadInputs) {
  RuntimeFlags flags;
  flags.tokenizer_file = tokenizer::kTinyTokenizerModelPath;
  auto loader = MakeTorchRuntimeLoader(flags);
  ASSERT_TRUE(loader.ok()) << loader.status();
  auto random = (*loader)->Load(RuntimeSource::RandomInit("tiny", 1));
  ASSERT_TRUE(random.ok()) << random.status();
  EXPECT_EQ((*random)->info().version, "random-init-tiny-seed1");
  EXPECT_EQ((*loader)->Load(RuntimeSource::RandomInit("huge", 1)).status().code(), absl::StatusCode::kInvalidArgument);

  const auto dir = std::filesystem::temp_directory_path() / ("torch_loader_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "v7.mivla").string();
  checkpoint::PolicyBundle b = TinyBundle("v7", 7);
  b.tokenizer_model.clear();  // the loader's --tokenizer fills in
  ASSERT_TRUE(checkpoint::SaveModelCheckpoint(path, b).ok());
  auto loaded = (*loader)->Load(RuntimeSource::Checkpoint(path));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->info().version, "v7");
  EXPECT_TRUE((*loaded)->Warm(2).ok());
  std::ofstream((dir / "junk.mivla").string()) << "not a checkpoint";
  EXPECT_FALSE((*loader)->Load(RuntimeSource::Checkpoint((dir / "junk.mivla").string())).ok());
  // Without --tokenizer a checkpoint carrying none cannot serve.
  auto bare = MakeTorchRuntimeLoader(RuntimeFlags{});
  ASSERT_TRUE(bare.ok());
  absl::Status no_tok = (*bare)->Load(RuntimeSource::Checkpoint(path)).status();
  EXPECT_EQ(no_tok.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_tok.message(), HasSubstr("carries no tokenizer"));
  std::filesystem::remove_all(dir);

  RuntimeFlags bad_device;
  bad_device.device = "tpu";
  EXPECT_EQ(MakeTorchRuntimeLoader(bad_device).status().code(), absl::StatusCode::kInvalidArgument);
  RuntimeFlags missing;
  missing.tokenizer_file = "/no/such/tokenizer.model";
  absl::Status s = MakeTorchRuntimeLoader(missing).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("--tokenizer"));
}

TEST(TorchPolicyRuntimeTest, BucketedDecodeGivesTheChunksOfThePlainOne) {
  // The CUDA graph path's wiring (Decode through the bucket sampler, Warm over its buckets), run op by
  // op on the CPU: every chunk as the plain decode gives it, guided items beside plain ones included.
  auto plain = Runtime(TinyBundle("v1", 1));
  TorchPolicyRuntime::Options o;
  o.cuda_graph_max_batch = 4;
  o.buckets_without_capture = true;
  auto bucketed = TorchPolicyRuntime::Create(TinyBundle("v1", 1), o);
  ASSERT_TRUE(bucketed.ok()) << bucketed.status();
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ((*bucketed)->info().device, "cpu/fp32");
  ASSERT_TRUE((*bucketed)->Warm(3).ok());
  EXPECT_EQ((*bucketed)->decode_bucket_builds(), 3) << "Warm(3) builds buckets 1, 2 and 4 through Decode";
  const int side = plain->info().image_size;
  std::vector<RuntimeObservation> obs;
  for (int i = 0; i < 6; ++i) obs.push_back(Obs(i % 2 ? Embodiment::kArx5 : Embodiment::kPiper, side, 2, i + 1));
  std::vector<DecodeItem> a, b;
  for (int i = 0; i < 6; ++i) {
    a.push_back({EncodeOne(*plain, obs[i]), static_cast<uint64_t>(40 + i), {}});
    b.push_back({EncodeOne(**bucketed, obs[i]), static_cast<uint64_t>(40 + i), {}});
  }
  // A guided item (an executed prefix of 2 steps) rides along and is sampled apart.
  a[5].executed_prefix = b[5].executed_prefix = std::vector<float>(2 * action::kActionDim, 0.0f);
  a[5].frozen_steps = b[5].frozen_steps = 1;
  for (size_t n : {1u, 3u, 6u}) {  // buckets 1 and 4, and 5 plain rows: 4, then 1
    SCOPED_TRACE(n);
    auto want = plain->Decode(absl::MakeSpan(a).subspan(0, n));
    auto got = (*bucketed)->Decode(absl::MakeSpan(b).subspan(0, n));
    ASSERT_EQ(got.size(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(want[i].ok() && got[i].ok()) << got[i].status();
      for (size_t k = 0; k < got[i]->values.size(); ++k) {
        ASSERT_NEAR(got[i]->values[k], want[i]->values[k], 1e-4) << "item " << i << " value " << k;
      }
    }
  }
  EXPECT_EQ((*bucketed)->decode_bucket_builds(), 3) << "the decodes reuse the warmed buckets";
  EXPECT_EQ(plain->decode_bucket_builds(), 0);
}

TEST(TorchRuntimeLoaderTest, CudaGraphsAreRefusedOffCuda) {
  RuntimeFlags flags;
  flags.tokenizer_file = tokenizer::kTinyTokenizerModelPath;
  flags.cuda_graphs = true;
  absl::Status s = MakeTorchRuntimeLoader(flags).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--cuda-graphs"));
  EXPECT_THAT(s.message(), HasSubstr("'cpu'"));
  // The runtime refuses it too when built directly (tests, benchmarks).
  TorchPolicyRuntime::Options o;
  o.cuda_graph_max_batch = 4;
  auto r = TorchPolicyRuntime::Create(TinyBundle("v1", 1), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("model version 'v1'"));
}

// A 320 x 240 camera frame as JPEG bytes, and as the server's image pool hands it to a runtime that does
// not decode images (decoded, area-resized to the input side).
struct Frame {
  RuntimeImage jpeg;
  RuntimeImage decoded;
};

Frame MakeFrame(int side, int seed) {
  cv::Mat bgr(240, 320, CV_8UC3);
  cv::setRNGSeed(seed);
  cv::randu(bgr, cv::Scalar::all(0), cv::Scalar::all(256));
  cv::GaussianBlur(bgr, bgr, cv::Size(9, 9), 0);
  std::vector<uint8_t> buf;
  EXPECT_TRUE(cv::imencode(".jpg", bgr, buf));
  Frame f;
  f.jpeg.width = 320;
  f.jpeg.height = 240;
  f.jpeg.jpeg.assign(buf.begin(), buf.end());
  cv::Mat rgb, small;
  cv::cvtColor(cv::imdecode(buf, cv::IMREAD_COLOR), rgb, cv::COLOR_BGR2RGB);
  cv::resize(rgb, small, cv::Size(side, side), 0, 0, cv::INTER_AREA);
  f.decoded.width = f.decoded.height = side;
  f.decoded.rgb.assign(small.data, small.data + small.total() * 3);
  return f;
}

float VisionDiff(const ConditionPtr& a, const ConditionPtr& b) {
  const auto& ta = static_cast<const TorchCondition&>(*a).tokens();
  const auto& tb = static_cast<const TorchCondition&>(*b).tokens();
  return ta.vision.sub(tb.vision).abs().max().item<float>();
}

TEST(TorchPolicyRuntimeTest, JpegImagesAreDecodedAndResizedForTheBatchOnTheDevice) {
  TorchPolicyRuntime::Options o;
  o.jpeg_decoder = MakeCpuJpegDecoder();
  auto created = TorchPolicyRuntime::Create(TinyBundle("v1", 1), o);
  ASSERT_TRUE(created.ok()) << created.status();
  const TorchPolicyRuntime& r = **created;
  EXPECT_TRUE(r.info().decodes_jpeg);
  EXPECT_THAT(r.info().device, HasSubstr("/jpeg-cpu"));
  const int side = r.info().image_size;
  const Frame f0 = MakeFrame(side, 1), f1 = MakeFrame(side, 2);
  RuntimeObservation as_jpeg = Obs(Embodiment::kPiper, side, 2, 5);
  as_jpeg.images = {f0.jpeg, f1.jpeg};
  RuntimeObservation as_decoded = as_jpeg;
  as_decoded.images = {f0.decoded, f1.decoded};
  RuntimeObservation corrupt = as_jpeg;
  corrupt.images[1].jpeg = std::string("\xFF\xD8", 2) + "a body that is no JPEG";
  RuntimeObservation swapped = as_jpeg;
  swapped.images = {f1.jpeg, f0.jpeg};

  auto conds = r.Encode({&as_jpeg, &corrupt, &as_decoded, &swapped});
  ASSERT_EQ(conds.size(), 4u);
  ASSERT_TRUE(conds[0].ok()) << conds[0].status();
  EXPECT_EQ(conds[1].status().code(), absl::StatusCode::kInvalidArgument) << "a bad JPEG fails its observation alone";
  EXPECT_THAT(conds[1].status().message(), HasSubstr("images[1].data: not a decodable JPEG"));
  ASSERT_TRUE(conds[2].ok()) << conds[2].status();
  ASSERT_TRUE(conds[3].ok()) << conds[3].status();
  // The same frames decoded on the device or by the server give the same vision tokens (area resizes
  // agree with OpenCV's to within one 8-bit level on a few values); other frames do not.
  const float same = VisionDiff(*conds[0], *conds[2]);
  const float other = VisionDiff(*conds[0], *conds[3]);
  EXPECT_LT(same, 1e-3f);
  EXPECT_GT(other, 100 * same + 1e-3f);
  // Batch-mates do not change an observation's tokens.
  EXPECT_LT(VisionDiff(*conds[0], EncodeOne(r, as_jpeg)), 1e-5f);
  // A runtime that does not decode JPEG asks for a new observation.
  auto plain = Runtime(TinyBundle("v1", 1));
  EXPECT_FALSE(plain->info().decodes_jpeg);
  auto refused = plain->Encode({&as_jpeg});
  EXPECT_EQ(refused[0].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused[0].status().message(), HasSubstr("JPEG"));
}

TEST(TorchRuntimeLoaderTest, GpuImageDecodeIsRefusedOffCuda) {
  RuntimeFlags flags;
  flags.tokenizer_file = tokenizer::kTinyTokenizerModelPath;
  flags.gpu_image_decode = true;
  absl::Status s = MakeTorchRuntimeLoader(flags).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--gpu-image-decode: needs a CUDA --device; the device is 'cpu'"));
}

}  // namespace
}  // namespace mivla::server
