#include "core/model/runtime.h"

#include <torch/cuda.h>

#include "gtest/gtest.h"

namespace mivla::model {
namespace {

TEST(RuntimeTest, ParsesCpuAndRejectsNonsense) {
  absl::StatusOr<RuntimeOptions> cpu = ParseRuntimeOptions("cpu", "fp32");
  ASSERT_TRUE(cpu.ok());
  EXPECT_TRUE(cpu->device.is_cpu());
  EXPECT_EQ(DescribeDevice(*cpu), "cpu/fp32");
  EXPECT_FALSE(ParseRuntimeOptions("tpu", "fp32").ok());
  EXPECT_FALSE(ParseRuntimeOptions("cpu", "fp8").ok());
  EXPECT_EQ(ParseRuntimeOptions("cpu", "bf16").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RuntimeTest, AutoPicksCudaOnlyWhenPresent) {
  absl::StatusOr<RuntimeOptions> a = ParseRuntimeOptions("auto", "fp32");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->device.is_cuda(), torch::cuda::is_available());
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(ParseRuntimeOptions("cuda", "fp32").status().code(), absl::StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace mivla::model
