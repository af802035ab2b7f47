// File: encode_stage.h
// The encode stage's torch-free steps around PolicyRuntime::Encode: on the image decode pool, decode
// every image of an Observe request and resize it to the runtime's square input side (or, for a runtime
// that decodes JPEG on its device, pass JPEG images through); on the encode worker, turn a task into the
// RuntimeObservation the runtime encodes (and the session keeps, so a newer version can re-encode it).
// Thread-safe (pure functions).
#ifndef MIVLA_SERVER_INFERENCE_ENCODE_STAGE_H_
#define MIVLA_SERVER_INFERENCE_ENCODE_STAGE_H_

#include <functional>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <vector>

#include "absl/status/status.h"
#include "server/inference/engine_tasks.h"
#include "server/inference/image_decode_pool.h"
#include "server/inference/input_limits.h"
#include "server/runtime_api/policy_runtime.h"

namespace mivla::server {

/// `rgb` resized to side x side as the trainer does (data::ResizeSquareRgb8: cv::resize's pixels, area filter
/// when shrinking); `rgb` itself when it already is.
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

/// Decodes `task`'s images on `pool` for its runtime (DecodeViewForModel), one part per camera view, so
/// an idle pool decodes one observation's views side by side; a busy one still takes jobs in arrival
/// order, and the job counts once against its pending cap. The thread that finishes the last view sets
/// the task's `images` and `image_decode_us` (the longest view's own decoding time, queueing excluded)
/// and passes the task to `next`. A view whose turn comes after the task's deadline fails with
/// DEADLINE_EXCEEDED; views after a failed one skip their work; the first failed view in camera order
/// (INVALID_ARGUMENT naming it), or the pool's refusal, goes to the task's `done` instead. `next` and
/// `done` run on a pool thread (so they must not submit to the pool: image_decode_pool.h), or, when the
/// pool refuses the job, `done` on the caller's. Sessions have at least one camera and one image per
/// camera (ValidateObservation), so a job has at least one part.
void DecodeImagesThen(std::unique_ptr<EncodeTask> task, ImageDecodePool* pool, const InputLimits& limits,
                      std::function<void(std::unique_ptr<EncodeTask>)> next);

/// The task's observation for the runtime: its decoded images (moved out of the task), instruction,
/// embodiment and raw proprioception (ValidateObservation passed).
std::shared_ptr<RuntimeObservation> BuildObservation(EncodeTask* task);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_ENCODE_STAGE_H_
