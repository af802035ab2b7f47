// Fuzzes request validation on raw wire bytes: the parse with its field diagnosis (request_parse.h),
// then, for a parsed ObserveRequest, the image checks (header reads included) and the string checks
// with their bounded echo. Nothing may crash, and every refusal must be INVALID_ARGUMENT.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <google/protobuf/stubs/logging.h>

#include "mivla/v1/policy.pb.h"
#include "server/inference/image_checks.h"
#include "server/inference/string_checks.h"
#include "server/service/request_parse.h"

namespace {

void MustBeInvalidArgument(const absl::Status& s) {
  if (!s.ok() && s.code() != absl::StatusCode::kInvalidArgument) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // no log line per invalid UTF-8 input
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  mivla::server::InputLimits limits;
  limits.max_image_side = 512;
  mivla::v1::StartSessionRequest start;
  MustBeInvalidArgument(mivla::server::ParseRequestBytes(bytes, &start));
  mivla::v1::ObserveRequest r;
  absl::Status parsed = mivla::server::ParseRequestBytes(bytes, &r);
  MustBeInvalidArgument(parsed);
  if (!parsed.ok()) return 0;
  for (int i = 0; i < r.images_size(); ++i) {
    MustBeInvalidArgument(mivla::server::CheckImage(r.images(i), "head_camera", 0, 0, "images[0]", limits));
  }
  MustBeInvalidArgument(mivla::server::CheckString(r.instruction(), "instruction", 64, "--max-instruction-bytes"));
  const std::string echo = mivla::server::ClipForEcho(r.session_id(), 64);
  if (echo.size() > 64 + 32 || !mivla::server::IsValidUtf8(echo)) std::abort();
  return 0;
}
