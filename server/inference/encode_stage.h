// File: encode_stage.h
// The encode stage's batch step: write each task's decoded images (DecodeForModel, run earlier on the
// image decode pool), tokenize its instruction,
// normalise its proprioception (all into preallocated staging rows), then run the vision encoders, the
// text encoder (through the model version's instruction cache) and the prefix MLPs once for the batch.
// Tasks of one call share a model version (PolicyEngine groups them). A task whose own input is bad
// (undecodable image) is answered INVALID_ARGUMENT alone; the rest of the batch goes on.
// Called on a stage worker thread only.
#ifndef MIVLA_SERVER_INFERENCE_ENCODE_STAGE_H_
#define MIVLA_SERVER_INFERENCE_ENCODE_STAGE_H_

#include <memory>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/inference/engine_tasks.h"
#include "server/inference/input_limits.h"
#include "server/inference/staging_buffers.h"

namespace mivla::server {

/// `rgb` resized to side x side (area filter when shrinking); `rgb` itself when it already is.
cv::Mat ResizeForModel(const cv::Mat& rgb, int side);
/// Decodes every image of `request` (DecodeImage) and resizes it for the model; run on the image
/// decode pool. INVALID_ARGUMENT names the image.
absl::Status DecodeForModel(const mivla::v1::ObserveRequest& request, int side, const InputLimits& limits,
                            std::vector<cv::Mat>* out);

/// Writes one task's prepared inputs (images already decoded into task.images) into row `row` of `staging`. INVALID_ARGUMENT names the field.
absl::Status PrepareRow(const EncodeTask& task, const LoadedModel& model, const InputLimits& limits,
                        EncodeStaging* staging, int row);

/// Encodes rows [0, n) of `staging` with `model`; returns one EncodedObservation per row (cond and
/// inputs cloned out of the staging buffers), ids/timestamps/instructions left for the caller to fill.
absl::StatusOr<std::vector<std::shared_ptr<EncodedObservation>>> EncodeRows(const LoadedModel& model,
                                                                            const EncodeStaging& staging,
                                                                            int n,
                                                                            const std::vector<std::string>& instructions);

/// Re-encodes kept observations with a newer model version (the cached inputs are re-used as they are).
absl::StatusOr<std::vector<std::shared_ptr<EncodedObservation>>> ReEncode(
    const LoadedModel& model, const std::vector<std::shared_ptr<const EncodedObservation>>& observations,
    EncodeStaging* staging);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_ENCODE_STAGE_H_
