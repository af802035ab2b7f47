// File: resize_weights.h
// Image resizing as two matrix products, out = Wy * image * Wx^T per channel, with OpenCV's weights, so
// that a runtime resizing a whole batch on its device (server/runtime/device_images.h) gives the pixels
// that ResizeSquareRgb8 (image_resize.h: the server's CPU path and the trainer) and cv::resize
// (INTER_AREA when shrinking, INTER_LINEAR otherwise) give.
// cv::resize's choice of kernel, per image, for a src_w x src_h image resized to side x side:
// - neither axis shrinks: INTER_LINEAR (half-pixel centres, taps clamped at the borders);
// - both axes shrink (or keep their size): INTER_AREA proper, each output pixel the mean of the source
//   area it covers, fractional pixels weighted by their overlap (computeResizeAreaTab's weights);
// - one shrinks, the other grows: INTER_AREA's upscaling kernel on both axes (two taps, weight
//   fx = (dx + 1) - (sx + 1) * dst / src wrapped to [0, 1)).
// These weights are exact; OpenCV's 8-bit paths round halves up (so does ResizeOnDevice) and compute the
// linear kernels in fixed point with truncated intermediates. Measured against cv::resize (device_images_test,
// before the server's area shrinks moved to ResizeSquareRgb8, which the test now compares with): area
// shrinks agreed exactly but for 1 value in 10^4, linear and mixed ones differed by one 8-bit level in
// 8-13 % of the values, never by more. Thread-safe (pure functions).
#ifndef MIVLA_CORE_DATA_RESIZE_WEIGHTS_H_
#define MIVLA_CORE_DATA_RESIZE_WEIGHTS_H_

#include <vector>

namespace mivla::data {

enum class ResizeKernel { kLinear, kArea, kAreaUpscale };

/// cv::resize's kernel for ResizeForModel's choice (INTER_AREA when either side exceeds `side`).
ResizeKernel ChooseResizeKernel(int src_width, int src_height, int side);

/// dst x src weights, row-major: output index d is sum over s of w[d * src + s] * input[s]. Each row
/// sums to 1. src, dst >= 1.
std::vector<float> ResizeWeights(int src, int dst, ResizeKernel kernel);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_RESIZE_WEIGHTS_H_
