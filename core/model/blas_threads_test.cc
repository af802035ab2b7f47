// File: blas_threads_test.cc
#include "core/model/blas_threads.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

namespace mivla::model {
namespace {

// A product big enough for OpenBLAS to split across threads; checks the answer, so a BLAS left in a bad
// state by a thread change would fail here.
void ExpectMatmulWorks() {
  torch::manual_seed(7);
  const torch::Tensor a = torch::randn({256, 256});
  const torch::Tensor b = torch::randn({256, 256});
  const torch::Tensor c = torch::mm(a, b);
  const torch::Tensor expected = (a.unsqueeze(2) * b.unsqueeze(0)).sum(1);
  EXPECT_TRUE(torch::allclose(c, expected, 1e-4, 1e-3));
}

class BlasThreadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ExpectMatmulWorks();  // loads LibTorch's BLAS before the first query
    if (BlasThreads() < 0) GTEST_SKIP() << "this process's BLAS is not OpenBLAS";
  }
  void TearDown() override { ::setenv("OPENBLAS_NUM_THREADS", "1", 1); }
};

TEST_F(BlasThreadsTest, ACountIsSetAndProductsStillAddUp) {
  absl::StatusOr<int> two = ApplyBlasThreads(2);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(*two, 2);
  EXPECT_EQ(BlasThreads(), 2);
  ExpectMatmulWorks();
  absl::StatusOr<int> one = ApplyBlasThreads(1);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, 1);
  EXPECT_EQ(BlasThreads(), 1);
  ExpectMatmulWorks();
}

TEST_F(BlasThreadsTest, AutoLeavesAnOperatorsEnvironmentAlone) {
  ASSERT_TRUE(ApplyBlasThreads(2).ok());
  ::setenv("OPENBLAS_NUM_THREADS", "2", 1);
  absl::StatusOr<int> n = ApplyBlasThreads(-1);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
}

TEST_F(BlasThreadsTest, AutoWithoutEnvironmentLeavesACoreFree) {
  ASSERT_TRUE(ApplyBlasThreads(2).ok());
  ::unsetenv("OPENBLAS_NUM_THREADS");
  absl::StatusOr<int> n = ApplyBlasThreads(-1);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, DefaultBlasThreads());
  EXPECT_EQ(BlasThreads(), DefaultBlasThreads());
  ExpectMatmulWorks();
}

TEST_F(BlasThreadsTest, ZeroKeepsTheLibrarysSetting) {
  ASSERT_TRUE(ApplyBlasThreads(2).ok());
  absl::StatusOr<int> n = ApplyBlasThreads(0);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
}

TEST(BlasThreadsFlagTest, OutOfRangeNamesTheFlag) {
  for (int bad : {-2, 1025}) {
    absl::StatusOr<int> n = ApplyBlasThreads(bad);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(n.status().message().find("--blas-threads"), std::string::npos) << n.status();
  }
}

TEST(BlasThreadsFlagTest, DefaultLeavesOneCoreButNeverNone) {
  EXPECT_GE(DefaultBlasThreads(), 1);
  EXPECT_LE(UsableCpus(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  EXPECT_EQ(DefaultBlasThreads(), std::max(1, UsableCpus() - 1));
}

TEST(BlasThreadsFlagTest, ACgroupQuotaCapsTheCpus) {
  EXPECT_EQ(CpusFromCgroupQuota("400000 100000\n"), 4);
  EXPECT_EQ(CpusFromCgroupQuota("150000 100000"), 2);  // 1.5 CPUs: two threads can run
  EXPECT_EQ(CpusFromCgroupQuota("50000 100000"), 1);
  EXPECT_EQ(CpusFromCgroupQuota("max 100000\n"), -1);
  EXPECT_EQ(CpusFromCgroupQuota("-1 100000"), -1);  // cgroup v1's "no quota"
  EXPECT_EQ(CpusFromCgroupQuota(""), -1);
  EXPECT_EQ(CpusFromCgroupQuota("400000 0"), -1);
  EXPECT_EQ(CpusFromCgroupQuota("lots 100000"), -1);
}

}  // namespace
}  // namespace mivla::model
