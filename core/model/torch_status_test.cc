#include "core/model/torch_status.h"

#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include <c10/util/Exception.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::model {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CatchTorchErrorsTest, TorchErrorTakesDefaultInternalWithoutBacktrace) {
  absl::Status s = CatchTorchErrors("vit import", [] { throw c10::Error("shape mismatch", "frame0\nframe1"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(), "vit import: shape mismatch");
}

TEST(CatchTorchErrorsTest, TorchCheckFailureTakesTheCallersCode) {
  absl::Status s = CatchTorchErrors(absl::StatusCode::kDataLoss, "state.pt: cannot read the training state",
                                    [] { TORCH_CHECK(false, "archive is truncated"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "state.pt: cannot read the training state: archive is truncated");
  EXPECT_THAT(s.message(), Not(HasSubstr("Exception raised from")));
}

TEST(CatchTorchErrorsTest, BadAllocIsResourceExhaustedWhateverTheCode) {
  absl::Status s = CatchTorchErrors(absl::StatusCode::kUnavailable, "cannot save m.mivla",
                                    []() -> absl::Status { throw std::bad_alloc(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "cannot save m.mivla: out of memory");
}

TEST(CatchTorchErrorsTest, OtherExceptionTakesInternalByDefault) {
  absl::Status s = CatchTorchErrors("Trainer", [] { throw std::runtime_error("gloo: connection reset"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(), "Trainer: gloo: connection reset");
}

TEST(CatchTorchErrorsTest, OtherExceptionTakesTheCallersCode) {
  absl::Status s =
      CatchTorchErrors(absl::StatusCode::kUnavailable, "rendezvous", [] { throw std::out_of_range("no device"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "rendezvous: no device");
}

TEST(CatchTorchErrorsTest, OkCodeFallsBackToInternal) {
  absl::StatusOr<int> v =
      CatchTorchErrors(absl::StatusCode::kOk, "ctx", []() -> absl::StatusOr<int> { throw std::logic_error("x"); });
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(v.status().message(), "ctx: x");
}

TEST(CatchTorchErrorsTest, VoidCallableRunsAndReturnsOk) {
  int calls = 0;
  absl::Status s = CatchTorchErrors("ctx", [&] { ++calls; });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(calls, 1);
}

TEST(CatchTorchErrorsTest, StatusOrValuePassesThrough) {
  absl::StatusOr<std::unique_ptr<int>> v =
      CatchTorchErrors("ctx", [] { return absl::StatusOr<std::unique_ptr<int>>(std::make_unique<int>(42)); });
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(**v, 42);
}

TEST(CatchTorchErrorsTest, CallablesOwnErrorPassesThroughUnchanged) {
  absl::Status s =
      CatchTorchErrors(absl::StatusCode::kDataLoss, "ctx", [] { return absl::NotFoundError("no tensor named 'w'"); });
  EXPECT_EQ(s, absl::NotFoundError("no tensor named 'w'"));
  absl::StatusOr<int> v =
      CatchTorchErrors("ctx", []() -> absl::StatusOr<int> { return absl::InvalidArgumentError("bad"); });
  EXPECT_EQ(v.status(), absl::InvalidArgumentError("bad"));
}

}  // namespace
}  // namespace mivla::model
