// File: encode_stage.h
// The encode stage's torch-free steps around PolicyRuntime::Encode: on the image decode pool, decode
// every image of an Observe request and resize it to the runtime's square input side (or, for a runtime
// that decodes JPEG on its device, pass JPEG images through); on the encode worker, turn a task into the
// RuntimeObservation the runtime encodes (and the session keeps, so a newer version can re-encode it).
// Thread-safe (pure functions).
#ifndef MIVLA_SERVER_INFERENCE_ENCODE_STAGE_H_
#define MIVLA_SERVER_INFERENCE_ENCODE_STAGE_H_

#include <memory>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "absl/status/status.h"
#include "server/inference/engine_tasks.h"
#include "server/inference/input_limits.h"
#include "server/runtime_api/policy_runtime.h"

namespace mivla::server {

/// `rgb` resized to side x side (area filter when shrinking); `rgb` itself when it already is.
cv::Mat ResizeForModel(const cv::Mat& rgb, int side);
/// Decodes image `view` of `request` (DecodeImage) and resizes it to side x side RGB8 into `*out`; run
/// on the image decode pool, one view per part of the Observe's job. With `pass_jpeg` (the runtime
/// decodes JPEG itself: RuntimeInfo::decodes_jpeg), a JPEG image is passed through as received, with its
/// header's size. INVALID_ARGUMENT names the image ("images[1]...").
absl::Status DecodeViewForModel(const mivla::v1::ObserveRequest& request, int view, int side, bool pass_jpeg,
                                const InputLimits& limits, RuntimeImage* out);
/// DecodeViewForModel for every view in order, into `*out` (one per view); the first error.
absl::Status DecodeForModel(const mivla::v1::ObserveRequest& request, int side, bool pass_jpeg,
                            const InputLimits& limits, std::vector<RuntimeImage>* out);

/// The task's observation for the runtime: its decoded images (moved out of the task), instruction,
/// embodiment and raw proprioception (ValidateObservation passed).
std::shared_ptr<RuntimeObservation> BuildObservation(EncodeTask* task);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_ENCODE_STAGE_H_
