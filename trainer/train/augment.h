// File: augment.h
// Image augmentation for training: a random shift (the image moves by up to max_shift_frac of its size
// in x and y, edges replicated: DrQ-style) and colour jitter (brightness and contrast factors in
// [1 - b, 1 + b], saturation factor in [1 - s, 1 + s]), drawn per image from the sample's own
// generator, so a batch's augmentation is as deterministic as its samples. The output is the model's
// layout: planar float R, G, B in [0, 1]. Pure functions; thread-safe.
#ifndef MIVLA_TRAINER_TRAIN_AUGMENT_H_
#define MIVLA_TRAINER_TRAIN_AUGMENT_H_

#include "core/data/image.h"
#include "trainer/train/data_mix.h"

namespace mivla::trainer {

struct AugmentOptions {
  bool enabled = true;
  double max_shift_frac = 0.05;  // shift in pixels up to round(frac * size)
  double brightness = 0.2;       // factor in [1 - brightness, 1 + brightness]
  double contrast = 0.2;         // around the image's mean grey
  double saturation = 0.1;       // around each pixel's grey
  // Probability of leaving a sample's proprioception out (state and its mask all 0, as for a robot that
  // sends none), so that the policy must also act from what it sees: a policy given the joint state
  // learns one trajectory per state and ignores the scene (README, "Why nothing learned"). Drawn after
  // the views, and only when > 0, so configs without it keep their exact batches. Not gated by `enabled`.
  double proprio_dropout = 0.0;
};

struct AugmentParams {
  int shift_x = 0, shift_y = 0;  // output(x, y) = input(x - shift_x, y - shift_y), clamped to the edges
  double brightness = 1.0, contrast = 1.0, saturation = 1.0;
  bool identity() const;
};

/// Squashing resize to side x side (area filter when shrinking, bilinear when growing), as the server's
/// encode stage does with camera images. Returns the image itself when it already has that size.
data::RgbImage ResizeSquare(const data::RgbImage& image, int side);

/// Draws the parameters for one image of width x height; identity when options.enabled is false.
AugmentParams DrawAugment(const AugmentOptions& options, int width, int height, SampleRng* rng);

/// Writes `image` (valid) with `params` applied into chw[3 * height * width] (planar R, G, B in [0, 1]).
void WriteAugmented(const data::RgbImage& image, const AugmentParams& params, float* chw);

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_AUGMENT_H_
