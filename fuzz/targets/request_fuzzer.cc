// Fuzzes request validation on raw wire bytes: the parse with its field diagnosis (request_parse.h),
// then, for a parsed ObserveRequest, the image checks (header reads included), the string checks with
// their bounded echo, and the whole ValidateObservation (shapes, times, proprioception ranges from the
// real embodiment files) against a session of the embodiment the input's last byte picks, whose
// cameras are the request's own (so the proprioception checks are reached). Accepted proprioception
// is turned into the model's state. The same bytes as an ActRequest: its real-time chunking fields
// (inference_delay_steps, committed_steps) against a chunk length, and accepted ones mapped onto model
// steps at periods the input picks (some not positive or not finite); the prefix must stay finite and
// within the horizon. Nothing may crash, and every refusal must be INVALID_ARGUMENT.
#include <cstddef>
#include <cstdint>
#include <cmath>
#include <cstdlib>

#include <google/protobuf/stubs/logging.h>

#include "mivla/v1/policy.pb.h"
#include "server/inference/image_checks.h"
#include "server/inference/observation_input.h"
#include "server/inference/realtime_prefix.h"
#include "server/inference/string_checks.h"
#include "server/service/request_parse.h"

namespace {

void MustBeInvalidArgument(const absl::Status& s) {
  if (!s.ok() && s.code() != absl::StatusCode::kInvalidArgument) std::abort();
}

const mivla::server::InputRanges* ranges = nullptr;

void FuzzRealtimePrefix(absl::string_view bytes, const uint8_t* data, size_t size) {
  mivla::v1::ActRequest act;
  const absl::Status parsed = mivla::server::ParseRequestBytes(bytes, &act);
  MustBeInvalidArgument(parsed);
  if (!parsed.ok()) return;
  const int max_steps = size > 1 ? 1 + data[size - 2] % 64 : 40;
  mivla::server::InputLimits limits;
  const absl::Status valid = mivla::server::ValidateCommittedSteps(act.inference_delay_steps(),
                                                                   act.committed_steps(), max_steps, limits);
  MustBeInvalidArgument(valid);
  if (!valid.ok()) return;
  static constexpr double kPeriods[] = {0.04, 0.02, 0.1, 1.0 / 30, 0.0, -0.04, 1e-300, 1e300, HUGE_VAL, NAN};
  const double control = kPeriods[size > 2 ? data[size - 3] % 10 : 0];
  const double model = kPeriods[size > 3 ? data[size - 4] % 10 : 0];
  const int horizon = size > 4 ? 1 + data[size - 5] % 64 : 16;
  const mivla::server::ModelPrefix prefix =
      mivla::server::ToModelPrefix(act.inference_delay_steps(), act.committed_steps(), control, model, horizon);
  const size_t dim = mivla::action::kActionDim;
  if (prefix.values.size() % dim != 0) std::abort();
  const int rows = static_cast<int>(prefix.values.size() / dim);
  if (rows > horizon || prefix.frozen_steps < 0 || prefix.frozen_steps > rows) std::abort();
  for (float v : prefix.values) {
    if (!std::isfinite(v)) std::abort();  // validated steps must give a finite prefix
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // no log line per invalid UTF-8 input
  static absl::StatusOr<mivla::server::InputRanges> loaded = mivla::server::InputRanges::Load();
  if (!loaded.ok()) std::abort();  // the embodiment files must load
  ranges = &*loaded;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  mivla::server::InputLimits limits;
  limits.max_image_side = 512;
  mivla::v1::StartSessionRequest start;
  MustBeInvalidArgument(mivla::server::ParseRequestBytes(bytes, &start));
  FuzzRealtimePrefix(bytes, data, size);
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

  mivla::server::SessionSpec spec;
  spec.embodiment = mivla::action::kAllEmbodiments[size > 0 ? data[size - 1] % mivla::action::kNumEmbodiments : 0];
  for (int i = 0; i < r.images_size(); ++i) spec.cameras.push_back({r.images(i).camera(), 0, 0});
  limits.max_instruction_bytes = 64;
  const absl::Status valid = mivla::server::ValidateObservation(r, spec, limits, ranges);
  MustBeInvalidArgument(valid);
  if (valid.ok()) {
    const mivla::server::RawState state = mivla::server::StateFromProprioception(r.proprioception(), spec.embodiment);
    for (int k = 0; k < mivla::action::kActionDim; ++k) {
      if (!std::isfinite(state.values[k])) std::abort();  // validated input must give a finite state
    }
  }
  return 0;
}
