// File: collator.h
// Turns training samples (core/data/sample_reader.h) into a TrainBatch: the model's inputs (images
// resized to S x S and augmented, views packed first-present-first and padded to max_views, a phrasing
// of the instruction drawn at random among the episode's instructions and tokenised, padded to
// max_text_tokens, the normalised proprioception of the sample's own slots) and the flow-matching
// targets (normalised action chunk, label / complement masks, step mask, embodiment).
//
// Normalisation is per embodiment (core/action/normalizer.h): the state over its own valid slots, the
// chunk over label + complement slots of each step's frame. Values outside the masks are 0. The layout
// matches what the server builds at inference (the resize in server/inference/encode_stage.cc, the tensors
// in server/runtime/torch_encode.cc): squashing resize with the area filter, present views first, pad id 0
// with text_mask false, state 0 where the mask is 0.
//
// Thread-safety: a Collator is immutable; Collate may be called concurrently. It does not own the
// statistics or the tokenizer, which must outlive it.
#ifndef MIVLA_TRAINER_TRAIN_COLLATOR_H_
#define MIVLA_TRAINER_TRAIN_COLLATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/action/normalizer.h"
#include "core/data/sample_reader.h"
#include "core/tokenizer/tokenizer.h"
#include "trainer/train/augment.h"
#include "trainer/train/train_batch.h"

namespace mivla::trainer {

struct CollatorOptions {
  int image_size = 56;       // S
  int max_views = 3;         // V
  int max_text_tokens = 32;  // L
  int horizon = 16;          // H; every sample's chunk must have H steps
  AugmentOptions augment;
};

struct CollatorItem {
  data::Sample sample;  // images: the views in model order (extra views beyond max_views are dropped)
  std::string source;   // for TrainBatch::sources
  std::string episode;  // for TrainBatch::episodes
  int file_frame = 0;   // for TrainBatch::frames
  uint64_t seed = 0;    // the sample's generator: phrasing, then augmentation per view
};

class Collator {
 public:
  Collator(CollatorOptions options, const action::NormalizationStats* stats,
           const tokenizer::Tokenizer* tokenizer);

  /// InvalidArgument for an empty batch, a chunk whose length is not `horizon`, or an invalid image
  /// (naming the sample and camera).
  absl::StatusOr<TrainBatch> Collate(const std::vector<CollatorItem>& items, uint64_t index) const;

  /// The phrasing Collate uses for `sample` with `seed` (the first draw of the sample's generator).
  static const std::string& Phrasing(const data::Sample& sample, uint64_t seed);

  const CollatorOptions& options() const { return options_; }

 private:
  CollatorOptions options_;
  const action::NormalizationStats* stats_;
  const tokenizer::Tokenizer* tokenizer_;
};

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_COLLATOR_H_
