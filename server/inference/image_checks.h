// File: image_checks.h
// Checks one wire image before any pixel is decoded: camera name, byte size, encoding, and its
// dimensions — read from the JPEG/PNG header (image_header.h) or the RAW_RGB8 width/height — against
// the optional width/height the image declares, the size the session declared for that camera (when
// it declared one), the per-side limit and the pixel limit. Run on the gRPC thread, so an oversized or
// lying image is refused in microseconds and never reaches a decoder.
// Every error is INVALID_ARGUMENT naming the field, e.g. "images[0]: JPEG header says 30000x30000 ...".
// Thread-safe (pure functions).
#ifndef MIVLA_SERVER_INFERENCE_IMAGE_CHECKS_H_
#define MIVLA_SERVER_INFERENCE_IMAGE_CHECKS_H_

#include <string>

#include "absl/status/statusor.h"
#include "mivla/v1/policy.pb.h"
#include "server/inference/image_header.h"
#include "server/inference/input_limits.h"

namespace mivla::server {

/// The image's size as its bytes state it (header for JPEG/PNG, width/height for RAW_RGB8), checked
/// against the limits and the image's own width/height fields. `field` is e.g. "images[1]".
absl::StatusOr<ImageDims> CheckedImageDims(const mivla::v1::Image& image, const std::string& field,
                                           const InputLimits& limits);

/// CheckedImageDims plus the camera: `camera` must match the image's name, and a declared size
/// (width and height > 0) must match the image's.
absl::Status CheckImage(const mivla::v1::Image& image, const std::string& camera, int declared_width,
                        int declared_height, const std::string& field, const InputLimits& limits);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_IMAGE_CHECKS_H_
