// File: input_limits.h
// Limits the server enforces on every request before any work is done (configuration as data). Each
// has a mivla-server flag of the same name with dashes (server/service/server_flags.cc) and is listed
// in server/README.md and the proto comments.
#ifndef MIVLA_SERVER_INFERENCE_INPUT_LIMITS_H_
#define MIVLA_SERVER_INFERENCE_INPUT_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace mivla::server {

struct InputLimits {
  // Images (checked from the encoded header before decoding: image_checks.h).
  size_t max_image_bytes = 8 << 20;      // encoded or raw bytes of one image
  int max_image_side = 4096;             // pixels, width and height
  int64_t max_image_pixels = 1 << 22;    // width x height (4.2 MP: 2048x2048, 1080p fits)
  int max_views = 3;                     // cameras per session (also capped by the model's max_views)
  // Strings (UTF-8 bytes).
  size_t max_instruction_bytes = 1024;
  size_t max_robot_id_bytes = 128;
  size_t max_task_bytes = 128;
  size_t max_camera_name_bytes = 64;
  size_t max_session_id_bytes = 64;      // ids the server issues are 32 hex digits
  size_t max_note_bytes = 1024;          // ReportEpisode.note
  size_t max_echo_bytes = 64;            // of a client's value quoted back in an error message
  // Numeric ranges (input_ranges.h).
  double joint_margin_rad = 0.2;         // beyond the embodiment's joint limits
  double gripper_margin = 0.01;          // beyond the gripper's range (its units: m, or rad for LocoMan)
  double workspace_m = 3.0;              // |x|, |y|, |z| of an end-effector position
  double max_unified_abs = 10.0;         // |value| of a unified-vector entry
  double min_control_rate_hz = 0.5;
  double max_control_rate_hz = 2000.0;
  int64_t max_future_skew_us = 86400LL * 1000000;  // observation time at most this far past the server clock
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_INPUT_LIMITS_H_
