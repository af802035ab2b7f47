// GraphedSampler on the CPU (kEager): the bucket logic the CUDA graph path shares. A batch padded into
// its bucket, split over max_batch, or sampled from two threads at once gives each row the chunk the
// plain sampler gives it; bucket tensors are built once per bucket; kCudaGraph is refused where it
// cannot run. The capture itself needs a CUDA build and device: one test runs it there and is skipped
// elsewhere (core/model/cuda_compile_check.sh type-checks the capture code on machines with CUDA headers).
#include "core/model/graphed_sampler.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <thread>
#include <vector>

#include "core/model/flow_matching.h"
#include "core/model/synthetic_inputs.h"
#include "gtest/gtest.h"

namespace mivla::model {
namespace {

class GraphedSamplerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(5);
    cfg_ = TinyConfig();
    model_ = MivlaModel(cfg_);
    model_->eval();
    std::vector<action::Embodiment> es;
    for (int i = 0; i < 7; ++i) es.push_back(i % 2 ? action::Embodiment::kArx5 : action::Embodiment::kPiper);
    torch::InferenceMode guard;
    tokens_ = model_->Encode(SyntheticInputs(cfg_, es, 9));
    noise_ = SampleNoise(7, cfg_.decoder.action_horizon, action::kActionDim, 31);
  }

  // Rows [begin, begin + n) of `t`, of the batch by default.
  static ConditionTokens RowsOf(const ConditionTokens& t, int64_t begin, int64_t n) {
    return {t.vision.narrow(0, begin, n), t.vision_mask.narrow(0, begin, n), t.text.narrow(0, begin, n),
            t.text_mask.narrow(0, begin, n), t.prefix.narrow(0, begin, n)};
  }
  ConditionTokens Rows(int64_t begin, int64_t n) const { return RowsOf(tokens_, begin, n); }
  // What the plain sampler gives those rows, sampled on their own.
  torch::Tensor Plain(int64_t begin, int64_t n) {
    torch::InferenceMode guard;
    return EulerSample(*model_, model_->PrepareDecoding(Rows(begin, n)), noise_.narrow(0, begin, n),
                       cfg_.decoder.sampling_steps);
  }

  ModelConfig cfg_;
  MivlaModel model_{nullptr};
  ConditionTokens tokens_;
  torch::Tensor noise_;
};

constexpr double kTol = 1e-5;

TEST_F(GraphedSamplerTest, BucketsArePowersOfTwoThenTheMaximum) {
  auto s = GraphedSampler::Create(model_, torch::kCPU, GraphedSampler::Mode::kEager, 20);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->buckets(), (std::vector<int>{1, 2, 4, 8, 16, 20}));
  auto one = GraphedSampler::Create(model_, torch::kCPU, GraphedSampler::Mode::kEager, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)->buckets(), (std::vector<int>{1}));
  auto zero = GraphedSampler::Create(model_, torch::kCPU, GraphedSampler::Mode::kEager, 0);
  EXPECT_EQ(zero.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("max_batch"), std::string::npos);
}

TEST_F(GraphedSamplerTest, PaddedBatchGivesEachRowItsOwnChunk) {
  auto s = GraphedSampler::Create(model_, torch::kCPU, GraphedSampler::Mode::kEager, 8);
  ASSERT_TRUE(s.ok()) << s.status();
  torch::InferenceMode guard;
  for (int64_t n : {1, 3, 5, 7}) {  // buckets 1, 4, 8, 8
    SCOPED_TRACE(n);
    torch::Tensor got = (*s)->Sample(Rows(0, n), noise_.narrow(0, 0, n));
    ASSERT_EQ(got.sizes(), (std::vector<int64_t>{n, cfg_.decoder.action_horizon, action::kActionDim}));
    EXPECT_LT((got - Plain(0, n)).abs().max().item<double>(), kTol);
  }
  // A row's chunk is the same whichever batch and bucket it came in.
  torch::Tensor alone = (*s)->Sample(Rows(2, 1), noise_.narrow(0, 2, 1));
  torch::Tensor in_five = (*s)->Sample(Rows(0, 5), noise_.narrow(0, 0, 5));
  EXPECT_LT((alone[0] - in_five[2]).abs().max().item<double>(), kTol);
}

TEST_F(GraphedSamplerTest, MoreRowsThanTheLargestBucketAreSampledInTurns) {
  auto s = GraphedSampler::Create(model_, torch::kCPU, GraphedSampler::Mode::kEager, 2);
  ASSERT_TRUE(s.ok()) << s.status();
  torch::InferenceMode guard;
  torch::Tensor got = (*s)->Sample(Rows(0, 7), noise_);
  ASSERT_EQ(got.size(0), 7);
  EXPECT_LT((got - Plain(0, 7)).abs().max().item<double>(), kTol);
}

TEST_F(GraphedSamplerTest, BucketTensorsAreBuiltOnceAndWarmBuildsThemAhead) {
  auto s = GraphedSampler::Create(model_, torch::kCPU, GraphedSampler::Mode::kEager, 8);
  ASSERT_TRUE(s.ok()) << s.status();
  torch::InferenceMode guard;
  (*s)->Warm(Rows(0, 1), noise_.narrow(0, 0, 1), 3);  // buckets 1, 2 and 4
  EXPECT_EQ((*s)->builds(), 3);
  for (int64_t n : {1, 2, 3, 4, 1, 3}) (*s)->Sample(Rows(0, n), noise_.narrow(0, 0, n));
  EXPECT_EQ((*s)->builds(), 3);
  (*s)->Sample(Rows(0, 6), noise_.narrow(0, 0, 6));  // bucket 8: new
  EXPECT_EQ((*s)->builds(), 4);
  // Another per-row shape (fewer text tokens) rebuilds that bucket's tensors, and still matches.
  ConditionTokens shorter = Rows(0, 2);
  shorter.text = shorter.text.narrow(1, 0, 3);
  shorter.text_mask = shorter.text_mask.narrow(1, 0, 3);
  torch::Tensor got = (*s)->Sample(shorter, noise_.narrow(0, 0, 2));
  EXPECT_EQ((*s)->builds(), 5);
  torch::Tensor want =
      EulerSample(*model_, model_->PrepareDecoding(shorter), noise_.narrow(0, 0, 2), cfg_.decoder.sampling_steps);
  EXPECT_LT((got - want).abs().max().item<double>(), kTol);
}

TEST_F(GraphedSamplerTest, ConcurrentBatchesOfBothSizesGetTheirOwnChunks) {
  auto s = GraphedSampler::Create(model_, torch::kCPU, GraphedSampler::Mode::kEager, 4);
  ASSERT_TRUE(s.ok()) << s.status();
  const torch::Tensor want3 = Plain(0, 3), want2 = Plain(3, 2);
  std::vector<double> err(4, 1.0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      torch::InferenceMode guard;
      double worst = 0;
      for (int i = 0; i < 5; ++i) {
        torch::Tensor got =
            t % 2 ? (*s)->Sample(Rows(3, 2), noise_.narrow(0, 3, 2)) : (*s)->Sample(Rows(0, 3), noise_.narrow(0, 0, 3));
        worst = std::max(worst, (got - (t % 2 ? want2 : want3)).abs().max().item<double>());
      }
      err[t] = worst;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_LT(err[t], kTol) << "thread " << t;
}

TEST_F(GraphedSamplerTest, CudaGraphModeIsRefusedWhereItCannotRun) {
  auto s = GraphedSampler::Create(model_, torch::kCPU, GraphedSampler::Mode::kCudaGraph, 4);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  // Without the capture code the build is named as the reason; with it, the device.
  EXPECT_NE(s.status().message().find(GraphedSampler::CudaGraphsBuilt() ? "CUDA device" : "this build"),
            std::string::npos)
      << s.status();
}

// The capture itself, where a CUDA build runs on a CUDA device (skipped elsewhere): each row's chunk
// is the plain decode's on the same device, a replay sees the rows copied in since the capture (new
// noise gives the new chunk, not the captured one), and replays build nothing.
TEST_F(GraphedSamplerTest, CudaGraphReplayGivesThePlainDecodesChunks) {
  if (!GraphedSampler::CudaGraphsBuilt() || !torch::cuda::is_available()) {
    GTEST_SKIP() << "needs a build against a CUDA LibTorch and a CUDA device";
  }
  const torch::Device cuda(torch::kCUDA, 0);
  model_->to(cuda);
  torch::InferenceMode guard;
  const ConditionTokens tokens = {tokens_.vision.to(cuda), tokens_.vision_mask.to(cuda), tokens_.text.to(cuda),
                                  tokens_.text_mask.to(cuda), tokens_.prefix.to(cuda)};
  auto plain = [&](const torch::Tensor& noise, int64_t n) {
    return EulerSample(*model_, model_->PrepareDecoding(RowsOf(tokens, 0, n)), noise.narrow(0, 0, n),
                       cfg_.decoder.sampling_steps);
  };
  auto s = GraphedSampler::Create(model_, cuda, GraphedSampler::Mode::kCudaGraph, 8);
  ASSERT_TRUE(s.ok()) << s.status();
  const torch::Tensor noise = noise_.to(cuda);
  const torch::Tensor other = SampleNoise(7, cfg_.decoder.action_horizon, action::kActionDim, 77).to(cuda);
  for (int64_t n : {1, 3, 5, 7}) {  // buckets 1, 4, 8, 8: three captures
    SCOPED_TRACE(n);
    const ConditionTokens rows = RowsOf(tokens, 0, n);
    torch::Tensor got = (*s)->Sample(rows, noise.narrow(0, 0, n));
    ASSERT_TRUE(got.is_cuda());
    EXPECT_LT((got - plain(noise, n)).abs().max().item<double>(), 1e-4);
    torch::Tensor again = (*s)->Sample(rows, other.narrow(0, 0, n));  // a replay with other noise
    EXPECT_LT((again - plain(other, n)).abs().max().item<double>(), 1e-4);
    EXPECT_GT((again - got).abs().max().item<double>(), 1e-2);
  }
  EXPECT_EQ((*s)->builds(), 3);
}

}  // namespace
}  // namespace mivla::model
