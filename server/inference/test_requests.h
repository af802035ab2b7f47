// File: test_requests.h
// Test helpers: well-formed StartSession / Observe requests for any embodiment (JPEG or raw images with a
// deterministic pattern, proprioception of the right shape), for unit, integration and benchmark code.
#ifndef MIVLA_SERVER_INFERENCE_TEST_REQUESTS_H_
#define MIVLA_SERVER_INFERENCE_TEST_REQUESTS_H_

#include <cstdint>
#include <string>

#include "core/action/action_space.h"
#include "mivla/v1/policy.pb.h"
#include "server/session/session.h"

namespace mivla::server::testing {

/// Robots: head + wrist camera(s); the human: one egocentric camera. 320x240 each.
mivla::v1::StartSessionRequest StartRequest(action::Embodiment e, const std::string& instruction = "press the bell");
/// The same layout as a domain SessionSpec.
SessionSpec SpecFor(action::Embodiment e, const std::string& instruction = "press the bell");
/// One observation matching StartRequest(e): images JPEG-encoded (or RAW_RGB8 when `raw`), proprioception
/// native per arm (or unified for the human), values varied by `seed`.
mivla::v1::ObserveRequest ObserveFor(action::Embodiment e, const std::string& session_id, uint64_t seed,
                                     bool raw = false);
/// A JPEG of a solid colour (r, g, b).
std::string SolidJpeg(int width, int height, int r, int g, int b);

}  // namespace mivla::server::testing

#endif  // MIVLA_SERVER_INFERENCE_TEST_REQUESTS_H_
