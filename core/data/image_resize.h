// File: image_resize.h
// ResizeSquareRgb8: an RGB8 image to side x side, as the model takes it, for the server's CPU image path
// (server/inference/encode_stage.h) and the trainer (trainer/train/augment.h) alike. It gives
// cv::resize's pixels (INTER_AREA when either side shrinks, INTER_LINEAR otherwise). Area shrinks with
// both sides shrinking (a camera image larger than the model's input, the usual case) are computed here,
// separably from ResizeWeights (resize_weights.h), rows first, about 2.7 x faster than cv::resize for
// 320 x 240 -> 56 x 56: they agree with cv::resize within one 8-bit level, in all but about 0.1 % of the
// values at 56 and 0.5 % at 224 exactly (float sums in another order). The other cases (one side kept,
// where cv::resize's own path differs by a level in about 4 % of the values, or growing) call cv::resize.
//
//   std::vector<uint8_t> out(side * side * 3);
//   ResizeSquareRgb8(rgb.data(), width, height, side, out.data());
//
// Thread safety: safe from any thread (the tap tables of the first 64 (size, side) pairs are cached
// behind a mutex; other sizes get theirs made per call).
#ifndef MIVLA_CORE_DATA_IMAGE_RESIZE_H_
#define MIVLA_CORE_DATA_IMAGE_RESIZE_H_

#include <cstdint>

namespace mivla::data {

/// `rgb`: width x height x 3 bytes, rows packed; `out`: side x side x 3 bytes. width, height, side >= 1.
void ResizeSquareRgb8(const uint8_t* rgb, int width, int height, int side, uint8_t* out);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_IMAGE_RESIZE_H_
