// File: input_limits.h
// Limits the server enforces on every request before any work is done (configuration as data).
#ifndef MIVLA_SERVER_INFERENCE_INPUT_LIMITS_H_
#define MIVLA_SERVER_INFERENCE_INPUT_LIMITS_H_

#include <cstddef>

namespace mivla::server {

struct InputLimits {
  size_t max_image_bytes = 8 << 20;    // encoded or raw bytes of one image
  int max_image_side = 4096;           // pixels, width and height
  int max_views = 3;                   // cameras per session (also capped by the model's max_views)
  size_t max_instruction_bytes = 1024; // UTF-8 bytes
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_INPUT_LIMITS_H_
