// File: observation_input.h
// Turning wire observations into model inputs, with every check a malformed request must fail:
// - ValidateObservation: cheap checks run on the gRPC thread before anything is queued (camera layout,
//   image sizes and encodings, instruction length, NaN/Inf and per-embodiment proprioception shape).
// - DecodeImage: JPEG / PNG / raw RGB8 bytes -> an RGB8 image (run on the encode stage's thread).
// - StateFromProprioception: native per-arm state or the unified vector -> 76 raw values + mask.
// Every error is INVALID_ARGUMENT naming the offending field, e.g. "images[1].data: not a decodable JPEG".
// Thread-safe (pure functions).
#ifndef MIVLA_SERVER_INFERENCE_OBSERVATION_INPUT_H_
#define MIVLA_SERVER_INFERENCE_OBSERVATION_INPUT_H_

#include <array>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "mivla/v1/policy.pb.h"
#include "server/inference/input_limits.h"
#include "server/inference/input_ranges.h"
#include "server/session/session.h"

namespace mivla::server {

/// proto enum <-> action::Embodiment (proto value = index + 1). INVALID_ARGUMENT naming `field` for
/// EMBODIMENT_UNSPECIFIED or an unknown value.
absl::StatusOr<action::Embodiment> EmbodimentFromProto(int value, const std::string& field);
mivla::v1::Embodiment EmbodimentToProto(action::Embodiment e);

/// Checks a StartSession request's camera layout and instruction against `limits`.
absl::Status ValidateSessionSpec(const SessionSpec& spec, const InputLimits& limits);

/// Shape, images (image_checks.h), strings, times and numeric ranges (input_ranges.h; `ranges` may be
/// null) of an Observe request.
absl::Status ValidateObservation(const mivla::v1::ObserveRequest& request, const SessionSpec& session,
                                 const InputLimits& limits, const InputRanges* ranges = nullptr);

/// `t` (microseconds) within [0, server clock + limits.max_future_skew_us]: robot clocks may be
/// simulated (starting at 0) but never so far ahead that step timestamps could overflow.
absl::Status CheckTime(int64_t t, const std::string& field, const InputLimits& limits);

/// RGB8 (CV_8UC3, R first) image; `field` prefixes error messages ("images[0]").
absl::StatusOr<cv::Mat> DecodeImage(const mivla::v1::Image& image, const std::string& field,
                                    const InputLimits& limits);

struct RawState {
  std::array<float, action::kActionDim> values{};  // unnormalised, 0 outside the mask
  action::ActionMask mask;                         // the slots that carry information
};

/// Assumes ValidateObservation passed. End-effector slots are masked out when no pose was sent.
RawState StateFromProprioception(const mivla::v1::Proprioception& p, action::Embodiment e);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_OBSERVATION_INPUT_H_
