// File: test_util.h
// Test helpers for core/data: a fresh temporary directory, and small synthetic episodes (a human
// EgoDex-style episode with both hands and a moving camera; a robot episode for any embodiment) whose
// values vary per frame so that mix-ups of frames, joints or arms show. Test-only; thread-compatible.
#ifndef MIVLA_CORE_DATA_TEST_UTIL_H_
#define MIVLA_CORE_DATA_TEST_UTIL_H_

#include <string>

#include "core/data/episode.h"

namespace mivla::data::testing {

/// Creates a new empty directory under the test temp dir.
std::string MakeTempDir(const std::string& prefix);

/// A frame whose pixels encode (frame, x, y) in smooth gradients (JPEG/mp4 friendly).
RgbImage GradientImage(int width, int height, int frame);

/// `frames` frames of all 21 hand joints per hand used by core/retarget plus `camera`, with
/// confidences and a video of width x height (no video when width == 0).
HumanEpisode MakeHumanEpisode(int frames, int width = 64, int height = 48);

/// A robot episode: arms as the embodiment has them, joints/gripper/endpose varying per frame,
/// cameras head_camera (+ left_camera/right_camera for two arms) of width x height.
RobotEpisode MakeRobotEpisode(action::Embodiment embodiment, int frames, int width = 64, int height = 48);

}  // namespace mivla::data::testing

#endif  // MIVLA_CORE_DATA_TEST_UTIL_H_
