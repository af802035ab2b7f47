// The fake runtime the server tests run on: deterministic chunks that follow the inputs, the seed and
// the version; its "checkpoint" files; configured latency and failures; the same input checks and
// handle ownership as the LibTorch runtime.
#include "server/runtime_api/fake_policy_runtime.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

using action::Embodiment;
using ::testing::HasSubstr;

RuntimeObservation Obs(Embodiment e, int side, int views, uint8_t shade) {
  RuntimeObservation o;
  o.embodiment = e;
  o.instruction = "press the bell";
  o.state_mask = action::EmbodimentMask(e);
  for (int v = 0; v < views; ++v) {
    o.images.push_back({side, side, std::vector<uint8_t>(static_cast<size_t>(side) * side * 3, shade), {}});
  }
  return o;
}

std::vector<float> Chunk(const PolicyRuntime& r, const RuntimeObservation& o, uint64_t seed) {
  auto c = r.Encode({&o});
  EXPECT_TRUE(c[0].ok()) << c[0].status();
  auto out = r.Decode({{*c[0], seed, {}}});
  EXPECT_TRUE(out[0].ok()) << out[0].status();
  return out[0].ok() ? out[0]->values : std::vector<float>{};
}

TEST(FakePolicyRuntimeTest, ChunksFollowInputsSeedsAndVersions) {
  FakeRuntimeOptions o;
  FakePolicyRuntime v1(o);
  o.offset = 0.5;
  FakePolicyRuntime v2(o);
  const RuntimeObservation a = Obs(Embodiment::kPiper, 56, 2, 10), b = Obs(Embodiment::kPiper, 56, 2, 200);
  const std::vector<float> base = Chunk(v1, a, 7);
  ASSERT_EQ(base.size(), 16u * action::kActionDim);
  EXPECT_EQ(Chunk(v1, a, 7), base);
  EXPECT_NE(Chunk(v1, a, 8), base);
  EXPECT_NE(Chunk(v1, b, 7), base);
  const std::vector<float> shifted = Chunk(v2, a, 7);
  const action::ActionMask mask = action::EmbodimentMask(Embodiment::kPiper);
  for (int d = 0; d < action::kActionDim; ++d) {
    if (mask.test(d)) {
      EXPECT_NEAR(shifted[d] - base[d], 0.5, 1e-5);
    } else {
      EXPECT_EQ(base[d], 0.0f) << "slot " << d << " is outside PiPER's mask";
    }
  }
}

TEST(FakePolicyRuntimeTest, InputChecksHandlesAndConfiguredFailures) {
  FakePolicyRuntime r(FakeRuntimeOptions{});
  FakePolicyRuntime other(FakeRuntimeOptions{});
  const RuntimeObservation ok = Obs(Embodiment::kArx5, 56, 2, 1), four = Obs(Embodiment::kArx5, 56, 4, 1),
                           big = Obs(Embodiment::kArx5, 112, 2, 1);
  auto c = r.Encode({&four, &ok, &big});
  EXPECT_EQ(c[0].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(c[1].ok());
  EXPECT_EQ(c[2].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.Decode({{*c[1], 1, {}}})[0].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.max_encode_batch(), 3);

  FakeRuntimeOptions f;
  f.fail = "encode";
  EXPECT_EQ(FakePolicyRuntime(f).Encode({&ok})[0].status().code(), absl::StatusCode::kInternal);
  f.fail = "warm";
  EXPECT_FALSE(FakePolicyRuntime(f).Warm(4).ok());
  f.fail = "non_finite";
  FakePolicyRuntime nan(f);
  std::vector<float> v = Chunk(nan, ok, 1);
  EXPECT_TRUE(std::any_of(v.begin(), v.end(), [](float x) { return std::isnan(x); }));
  f.fail = "";
  f.encode_latency = absl::Milliseconds(30);
  FakePolicyRuntime slow(f);
  const absl::Time t0 = absl::Now();
  slow.Encode({&ok});
  EXPECT_GE(absl::Now() - t0, absl::Milliseconds(30));
}

TEST(FakeRuntimeLoaderTest, ReadsCheckpointFilesAndNamesBadOnes) {
  const auto dir = std::filesystem::temp_directory_path() / ("fake_loader_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream((dir / name).string()) << text;
    return (dir / name).string();
  };
  FakeRuntimeLoader loader;
  auto v = loader.Load(RuntimeSource::Checkpoint(write("a.mivla", FakeCheckpoint("v9", R"("image_size": 112, "decode_latency_ms": 5)"))));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->info().version, "v9");
  EXPECT_EQ((*v)->info().image_size, 112);
  EXPECT_EQ(static_cast<FakePolicyRuntime&>(**v).options().decode_latency, absl::Milliseconds(5));
  const std::string junk = write("b.mivla", "\x89PNG not json");
  absl::Status s = loader.Load(RuntimeSource::Checkpoint(junk)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr(junk));
  EXPECT_EQ(loader.Load(RuntimeSource::Checkpoint(write("c.mivla", FakeCheckpoint("x", R"("fail": "load")")))).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(loader.Load(RuntimeSource::Checkpoint((dir / "missing.mivla").string())).status().code(),
            absl::StatusCode::kNotFound);
  auto random = loader.Load(RuntimeSource::RandomInit("base", 3));
  ASSERT_TRUE(random.ok());
  EXPECT_EQ((*random)->info().version, "random-init-base-seed3");
  EXPECT_EQ((*random)->info().config_name, "base");
  EXPECT_EQ(loader.loads(), 5);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mivla::server
