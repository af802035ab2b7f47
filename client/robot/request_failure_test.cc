#include "client/robot/request_failure.h"

#include "gtest/gtest.h"

namespace mivla::client {
namespace {

TEST(RequestFailureTest, ClassifiesByStatusCode) {
  EXPECT_EQ(ClassifyFailure(absl::UnauthenticatedError("bad token")), Failure::kFatal);
  EXPECT_EQ(ClassifyFailure(absl::PermissionDeniedError("no")), Failure::kFatal);
  EXPECT_EQ(ClassifyFailure(absl::ResourceExhaustedError("busy")), Failure::kRefused);
  EXPECT_EQ(ClassifyFailure(absl::InvalidArgumentError("bad chunk")), Failure::kRefused);
  EXPECT_EQ(ClassifyFailure(absl::DeadlineExceededError("slow")), Failure::kRefused);
  EXPECT_EQ(ClassifyFailure(absl::UnavailableError("down")), Failure::kLost);
  EXPECT_EQ(ClassifyFailure(absl::NotFoundError("unknown session")), Failure::kLost);
}

TEST(RequestFailureTest, FatalErrorKeepsTheCodeAndSaysWhatToCheck) {
  const absl::Status e = FatalClientError(absl::UnauthenticatedError("bad token"));
  EXPECT_EQ(e.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(e.message().find("bad token"), absl::string_view::npos) << e;
  EXPECT_NE(e.message().find("--token-file"), absl::string_view::npos) << e;
}

}  // namespace
}  // namespace mivla::client
